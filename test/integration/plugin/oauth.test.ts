/**
 * OAuth sign-in end to end: the Holdfast plugin listening on a loopback port, @hapi/bell doing the
 * real redirect dance, and a real local OAuth 2 provider (fixtures/oauth-provider.ts) answering
 * authorize, token and profile requests over HTTP. The "browser" is fetch with a cookie jar that
 * follows redirects itself. Nothing here talks to the internet.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { googleProvider } from '../../../src/plugin';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { Jar } from '../../support/inject';
import { uniqueEmail } from '../../support/suites/api-suite';
import { LocalOAuthProvider, Outcome } from '../../support/oauth-provider';
import { linkIn, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';

let fx: LocalOAuthProvider;
/** Mail is on: password registrations get a verification link, links a notice (issue 9). */
let smtp: TestSmtpServer;
let app: TestApp;
let base: string;
const logLines: string[] = [];
/** Every cookie value the server set during the tests (none may reach a log). */
const cookieValues = new Set<string>();

beforeAll(async () => {
  fx = await LocalOAuthProvider.start();
  smtp = await startSmtpServer();
  const logger = pino(
    { level: 'info' },
    new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    }),
  );
  const settings = testSettings({
    oauth: { github: { clientId: fx.clientId, clientSecret: fx.clientSecret, uri: fx.url } },
    mail: smtp.mailSettings('http://holdfast.test'),
  });
  app = await buildTestApp({
    settings,
    extra: {
      logger,
      oauthProviders: {
        local: { ...fx.pluginEntry(), label: 'Local ID' },
        google: {
          provider: googleProvider({
            auth: `${fx.url}/o/oauth2/v2/auth`,
            token: `${fx.url}/token`,
            userinfo: `${fx.url}/userinfo`,
          }),
          clientId: fx.clientId,
          clientSecret: fx.clientSecret,
        },
      },
    },
  });
  // Hapi's own log of requests and internal errors goes to the same place as the audit log.
  app.server.events.on({ name: 'request', channels: ['error', 'internal', 'app'] }, (_r, event) =>
    logLines.push(JSON.stringify({ tags: event.tags, error: String(event.error ?? event.data) })),
  );
  await app.server.start();
  base = app.server.info.uri;
});

afterAll(async () => {
  await app?.server.stop();
  await app?.verification?.idle();
  await app?.notifications?.idle();
  await smtp?.stop();
  await fx?.stop();
});

interface Hop {
  url: string;
  status: number;
  location?: string;
}

/** GET /auth/me's answer (or an Error body, whose fields are then absent). */
interface Me {
  user: { id: string; email: string; name: string; emailVerified: boolean };
  session: { id: string; method: string };
}

/** One browser: cookies of the Holdfast site in a jar; redirects followed by hand. */
class Browser {
  readonly jar = new Jar();

  constructor(
    private readonly accept = '*/*',
    private readonly site = base,
  ) {}

  async request(
    url: string,
    init: { method?: string; body?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    const target = new URL(url, this.site);
    const ours = target.origin === new URL(this.site).origin;
    const headers: Record<string, string> = {
      accept: this.accept,
      'user-agent': 'holdfast-oauth-test',
      ...init.headers,
    };
    const cookie = ours ? this.jar.header() : undefined;
    if (cookie) headers.cookie = cookie;
    const res = await fetch(target, {
      method: init.method ?? 'GET',
      body: init.body,
      headers,
      redirect: 'manual',
    });
    if (ours) {
      const set = res.headers.getSetCookie();
      for (const c of set) cookieValues.add(c.split(';')[0].split('=').slice(1).join('='));
      this.jar.take({ headers: { 'set-cookie': set } });
    }
    return res;
  }

  /** GET and follow redirects; the first request looks like a click on this site's page. */
  async navigate(
    path: string,
    firstSite = 'same-origin',
  ): Promise<{ res: Response; hops: Hop[]; body: string }> {
    const hops: Hop[] = [];
    let url = new URL(path, this.site).toString();
    let site = firstSite;
    for (let i = 0; i < 10; i++) {
      const res = await this.request(url, { headers: { 'sec-fetch-site': site } });
      const location = res.headers.get('location') ?? undefined;
      hops.push({ url, status: res.status, location });
      if (res.status < 300 || res.status >= 400 || !location) {
        return { res, hops, body: await res.text() };
      }
      await res.body?.cancel();
      const next = new URL(location, url);
      site = next.origin === new URL(url).origin ? 'same-origin' : 'cross-site';
      url = next.toString();
    }
    throw new Error(`too many redirects: ${hops.map((h) => h.url).join(' -> ')}`);
  }

  sessionCookie(): string | undefined {
    return this.jar.cookies.get(app.settings.cookie.name);
  }

  async me(): Promise<{ status: number; body: Me }> {
    const res = await this.request('/auth/me');
    return { status: res.status, body: (await res.json()) as Me };
  }

  /** A JSON call from this site's own pages (same Origin). */
  async send(method: string, path: string, body?: unknown): Promise<Response> {
    return this.request(path, {
      method,
      body: body === undefined ? undefined : JSON.stringify(body),
      headers: {
        origin: base,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
    });
  }

  /** The /account page as HTML, and the crumb its forms carry. */
  async accountPage(): Promise<{ status: number; html: string; crumb: string }> {
    const res = await this.request('/account', { headers: { accept: 'text/html' } });
    const html = await res.text();
    return {
      status: res.status,
      html,
      crumb: /name='crumb' value='([^']+)'/.exec(html)?.[1] ?? '',
    };
  }

  /** Submits a form of /account (with its crumb), as the page's button would. */
  async submit(path: string, fields: Record<string, string> = {}): Promise<Response> {
    const { crumb } = await this.accountPage();
    return this.request(path, {
      method: 'POST',
      body: new URLSearchParams({ crumb, ...fields }).toString(),
      headers: {
        origin: base,
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'text/html',
      },
    });
  }

  /** Follows a 303 from this site into the provider round trip and back. */
  async follow(res: Response): Promise<{ res: Response; hops: Hop[]; body: string }> {
    expect(res.status).toBe(303);
    await res.body?.cancel();
    return this.navigate(res.headers.get('location')!);
  }
}

/** A JSON answer's body. */
async function json(res: Response): Promise<Record<string, unknown>> {
  return (await res.json()) as Record<string, unknown>;
}

const INTENT_COOKIE = () => `${app.settings.cookie.name}_oauth_intent`;

/** Signs in at `provider` with what the user does at the provider (`outcome`). */
async function signIn(provider: string, outcome: Outcome, browser = new Browser()) {
  fx.next = outcome;
  const flow = await browser.navigate(`/auth/oauth/${provider}`);
  return { browser, ...flow };
}

function stats() {
  return {
    created: app.sessions.stats.created.oauth,
    failures: app.events.stats.loginFailures.oauth,
    logins: app.events.stats.logins.oauth,
  };
}

async function registerWithPassword(email: string) {
  const browser = new Browser();
  const res = await browser.request('/auth/register', {
    method: 'POST',
    body: JSON.stringify({ email, password: 'correct horse battery' }),
    headers: { 'content-type': 'application/json', origin: base },
  });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { user: { id: string } };
  return { browser, userId: body.user.id };
}

describe('OAuth sign-in through @hapi/bell against a local provider', () => {
  test('a verified email creates the user and signs in: new session (method oauth), cookie, redirect to /account', async () => {
    const before = stats();
    const email = uniqueEmail('oauth.new');
    const { browser, hops, res } = await signIn('local', { account: fx.account(email) });

    // The dance: us (302 to the provider) -> provider (302 back with code) -> us (303 /account).
    expect(hops.map((h) => h.status)).toEqual([302, 302, 303, 200]);
    expect(hops[0].location).toMatch(new RegExp(`^${fx.url}/authorize\\?`));
    const authorize = new URL(hops[0].location!);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${base}/auth/oauth/local`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('state')).toMatch(/^[A-Za-z0-9]{22}$/);
    expect(hops[2].location).toBe('/account');
    expect(res.status).toBe(200); // /account, signed in
    // The code was exchanged once, with PKCE and HTTP Basic client authentication.
    expect(fx.seen.filter((s) => s.kind === 'token').at(-1)?.detail).toEqual({
      client_auth: 'basic',
      pkce: 'yes',
      result: 'ok',
    });

    const me = await browser.me();
    expect(me.status).toBe(200);
    expect(me.body.user).toMatchObject({ email, emailVerified: true, name: 'Test Person' });
    expect(me.body.session.method).toBe('oauth');
    const user = await app.users.findByEmail(email);
    expect(user?.id).toBe(me.body.user.id);
    expect(user?.passwordHash).toBeNull();
    // Counted as an OAuth session and login; bell's state cookie is gone after the callback.
    expect(stats()).toEqual({
      created: before.created + 1,
      failures: before.failures,
      logins: before.logins + 1,
    });
    expect([...browser.jar.cookies.keys()]).toEqual([app.settings.cookie.name]);
  });

  test('pre-hijacking: a verified email of an account the identity is not linked to neither signs in nor links (HF_OAUTH_LINK_REQUIRED)', async () => {
    // Someone registers the victim's address with a password before the victim ever comes.
    const email = uniqueEmail('oauth.squat');
    const { browser: squatter, userId } = await registerWithPassword(email);
    const before = stats();
    const account = fx.account(email.toUpperCase()); // the provider spells it differently

    const victim = await signIn('local', { account });
    expect(victim.res.status).toBe(409);
    expect(JSON.parse(victim.body)).toMatchObject({
      code: 'HF_OAUTH_LINK_REQUIRED',
      message: expect.stringMatching(
        /account with this email address already exists: sign in .*then link Local ID from your account page/,
      ),
    });
    // Not signed in, nothing linked, no second account, nothing of the account changed.
    expect(victim.browser.sessionCookie()).toBeUndefined();
    expect((await victim.browser.me()).status).toBe(401);
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();
    const stored = await app.users.findByEmail(email);
    expect(stored).toMatchObject({ id: userId, emailVerified: false });
    expect(await app.users.listIdentities(userId)).toEqual([]);
    expect(stats()).toEqual({ ...before, failures: before.failures + 1 });
    // The account is exactly what its registrant made: their session lives, their password works,
    // and no provider sign-in of the victim ever reaches it.
    expect((await squatter.me()).status).toBe(200);
    const login = await new Browser().send('POST', '/auth/login', {
      email,
      password: 'correct horse battery',
    });
    expect(login.status).toBe(200);
    const again = await signIn('local', { account });
    expect(again.res.status).toBe(409);

    // Another provider vouching for the same address: the same answer.
    const viaGoogle = await signIn('google', { account: fx.account(email) });
    expect(JSON.parse(viaGoogle.body).code).toBe('HF_OAUTH_LINK_REQUIRED');
    expect((await viaGoogle.browser.me()).status).toBe(401);

    // A browser gets the login page with the reason, still 409 and no session.
    const html = await signIn('local', { account }, new Browser('text/html'));
    expect(html.res.status).toBe(409);
    expect(html.body).toMatch(/then link Local ID from your account page/);
    expect(html.browser.sessionCookie()).toBeUndefined();
  });

  test("an account made by one provider is not linked by another provider's verified email either", async () => {
    const email = uniqueEmail('oauth.second');
    const first = await signIn('local', { account: fx.account(email) });
    expect((await first.browser.me()).status).toBe(200);
    const second = await signIn('google', { account: fx.account(email) });
    expect(second.res.status).toBe(409);
    expect(JSON.parse(second.body).code).toBe('HF_OAUTH_LINK_REQUIRED');
    expect((await second.browser.me()).status).toBe(401);
  });

  test('link from /account: the signed-in user links a provider account, which then signs them in', async () => {
    const email = uniqueEmail('oauth.linker');
    const { browser, userId } = await registerWithPassword(email);
    const page = await browser.accountPage();
    expect(page.html).toContain("action='/account/oauth/local/link'");
    expect(page.html).toContain('Link Local ID');
    // The provider's address may differ from the account's: the signed-in user decides.
    const account = fx.account(uniqueEmail('oauth.linker.other'));
    fx.next = { account };
    const start = await browser.submit('/account/oauth/local/link');
    expect(start.headers.get('location')).toMatch(
      /^\/auth\/oauth\/local\?intent=[A-Za-z0-9_-]{22}$/,
    );
    // The intent travels in its own short-lived HttpOnly cookie, with a MAC, never the query alone.
    const set = start.headers.getSetCookie().find((c) => c.startsWith(`${INTENT_COOKIE()}=`));
    expect(set).toMatch(/; Max-Age=600; .*HttpOnly/);
    expect(set).toMatch(/; SameSite=Lax/);
    const flow = await browser.follow(start);
    expect(flow.hops.at(-2)).toMatchObject({
      status: 303,
      location: '/account?done=linked&provider=local',
    });
    expect(flow.body).toMatch(/Your Local ID account is linked/);
    expect(flow.body).toContain('Unlink Local ID');
    expect(browser.jar.cookies.has(INTENT_COOKIE())).toBe(false);
    expect((await app.users.findByIdentity('local', String(account.id)))?.id).toBe(userId);
    const identities = await browser.send('GET', '/auth/identities');
    expect(await json(identities)).toMatchObject({
      identities: [{ provider: 'local', label: 'Local ID' }],
    });
    // The same browser's session stays (a link is not a sign-in); a new browser signs in with it.
    expect((await browser.me()).body.user.id).toBe(userId);
    const other = await signIn('local', { account });
    expect((await other.browser.me()).body).toMatchObject({
      user: { id: userId },
      session: { method: 'oauth' },
    });
    // Linking a second Local ID account to the same user is refused before the round trip.
    const twice = await browser.send('POST', '/auth/oauth/local/link');
    expect(twice.status).toBe(409);
    expect((await json(twice)).code).toBe('HF_OAUTH_LINK_CONFLICT');
  });

  test('linking needs a recent authentication (auth.reauthWindow): refused with HF_REAUTH_REQUIRED, allowed after POST /auth/reauth', async () => {
    const window = app.settings.auth.reauthWindow;
    const { browser, userId } = await registerWithPassword(uniqueEmail('oauth.reauth'));
    // Within the window (the registration was a password authentication): allowed to start.
    const ok = await browser.send('POST', '/auth/oauth/local/link');
    expect(ok.status).toBe(303);
    await ok.body?.cancel();
    app.clock.now += window + 1;
    const late = await browser.send('POST', '/auth/oauth/local/link');
    expect(late.status).toBe(403);
    expect(await json(late)).toMatchObject({ code: 'HF_REAUTH_REQUIRED', reauth: '/auth/reauth' });
    // The page's button says so on /account, where the confirmation form is.
    const form = await browser.submit('/account/oauth/local/link');
    expect(form.headers.get('location')).toBe('/account?fail=reauth&provider=local');
    const page = await browser.accountPage();
    expect(page.html).toContain("action='/account/reauth'");

    const oldCookie = browser.sessionCookie();
    const reauth = await browser.send('POST', '/auth/reauth', {
      password: 'correct horse battery',
    });
    expect(reauth.status).toBe(200);
    expect(browser.sessionCookie()).not.toBe(oldCookie);
    const account = fx.account(uniqueEmail('oauth.reauth.gh'));
    fx.next = { account };
    const start = await browser.send('POST', '/auth/oauth/local/link');
    const flow = await browser.follow(start);
    expect(flow.hops.at(-2)?.location).toBe('/account?done=linked&provider=local');
    expect((await app.users.findByIdentity('local', String(account.id)))?.id).toBe(userId);

    // The window is checked again when the provider answers: a round trip that outlives it links
    // nothing.
    const { browser: slow, userId: slowId } = await registerWithPassword(uniqueEmail('oauth.slow'));
    const slowAccount = fx.account(uniqueEmail('oauth.slow.gh'));
    fx.next = { account: slowAccount };
    const slowStart = await slow.send('POST', '/auth/oauth/local/link');
    expect(slowStart.status).toBe(303);
    app.clock.now += window + 1;
    const slowFlow = await slow.follow(slowStart);
    expect(slowFlow.res.status).toBe(403);
    expect(JSON.parse(slowFlow.body).code).toBe('HF_REAUTH_REQUIRED');
    expect(await app.users.findByIdentity('local', String(slowAccount.id))).toBeNull();
    expect(await app.users.listIdentities(slowId)).toEqual([]);
  });

  test('a provider account linked to another user is refused (HF_OAUTH_LINK_CONFLICT)', async () => {
    const a = await registerWithPassword(uniqueEmail('oauth.owner'));
    const account = fx.account(uniqueEmail('oauth.shared'));
    fx.next = { account };
    await a.browser.follow(await a.browser.send('POST', '/auth/oauth/local/link'));
    expect((await app.users.findByIdentity('local', String(account.id)))?.id).toBe(a.userId);

    const b = await registerWithPassword(uniqueEmail('oauth.other'));
    fx.next = { account };
    const flow = await b.browser.follow(await b.browser.send('POST', '/auth/oauth/local/link'));
    expect(flow.res.status).toBe(409);
    expect(JSON.parse(flow.body)).toMatchObject({
      code: 'HF_OAUTH_LINK_CONFLICT',
      message: expect.stringMatching(/linked to another account here/),
    });
    expect((await app.users.findByIdentity('local', String(account.id)))?.id).toBe(a.userId);
    expect(await app.users.listIdentities(b.userId)).toEqual([]);
    // From the page, the account page says why.
    const htmlBrowser = new Browser('text/html');
    for (const [k, v] of b.browser.jar.cookies) htmlBrowser.jar.cookies.set(k, v);
    fx.next = { account };
    const page = await htmlBrowser.follow(await htmlBrowser.submit('/account/oauth/local/link'));
    expect(page.hops.at(-2)?.location).toBe('/account?fail=conflict&provider=local');
    expect(page.body).toMatch(/That Local ID account is linked to another account here/);
  });

  test('a link cancelled at the provider lands on /account with the reason; nothing is linked', async () => {
    const { browser, userId } = await registerWithPassword(uniqueEmail('oauth.cancel'));
    const page = new Browser('text/html');
    for (const [k, v] of browser.jar.cookies) page.jar.cookies.set(k, v);
    fx.next = { error: 'access_denied' };
    const flow = await page.follow(await page.submit('/account/oauth/local/link'));
    expect(flow.hops.at(-2)?.location).toBe('/account?fail=failed&provider=local');
    expect(flow.res.status).toBe(200);
    expect(flow.body).toMatch(/Local ID did not complete the step: nothing changed/);
    expect(page.jar.cookies.has(INTENT_COOKIE())).toBe(false);
    expect(await app.users.listIdentities(userId)).toEqual([]);
  });

  test('link mode cannot be forged or carried over: no intent cookie, another session, a tampered cookie', async () => {
    const { browser, userId } = await registerWithPassword(uniqueEmail('oauth.forge'));
    const session = (await browser.me()).body.session.id;
    const account = fx.account(uniqueEmail('oauth.forge.gh'));

    // A start with an intent in the query but no intent cookie: neither links nor signs in.
    fx.next = { account };
    const bare = await browser.navigate('/auth/oauth/local?intent=AAAAAAAAAAAAAAAAAAAAAA');
    expect(bare.res.status).toBe(403);
    expect(JSON.parse(bare.body).code).toBe('HF_CSRF');
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();
    expect((await browser.me()).body.session.id).toBe(session);

    // A genuine intent cookie, but a round trip started with another nonce than the cookie's.
    const real = await browser.send('POST', '/auth/oauth/local/link');
    await real.body?.cancel();
    expect(browser.jar.cookies.has(INTENT_COOKIE())).toBe(true);
    fx.next = { account };
    const other = await browser.navigate('/auth/oauth/local?intent=CCCCCCCCCCCCCCCCCCCCCC');
    expect(other.res.status).toBe(403);
    expect(JSON.parse(other.body).code).toBe('HF_CSRF');
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();

    // A tampered intent cookie (another session id) fails its MAC.
    const start = await browser.send('POST', '/auth/oauth/local/link');
    await start.body?.cancel();
    const value = browser.jar.cookies.get(INTENT_COOKIE())!;
    const parts = value.split('.');
    parts[3] = 'BBBBBBBBBBBBBBBBBBBBBB';
    browser.jar.cookies.set(INTENT_COOKIE(), parts.join('.'));
    fx.next = { account };
    const tampered = await browser.navigate(start.headers.get('location')!);
    expect(tampered.res.status).toBe(403);
    expect(JSON.parse(tampered.body).code).toBe('HF_CSRF');
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();

    // The session changed between the start and the callback (logged out and in again).
    const start2 = await browser.send('POST', '/auth/oauth/local/link');
    await start2.body?.cancel();
    const relogin = await browser.send('POST', '/auth/login', {
      email: (await app.users.findById(userId))!.email,
      password: 'correct horse battery',
    });
    expect(relogin.status).toBe(200);
    fx.next = { account };
    const moved = await browser.navigate(start2.headers.get('location')!);
    expect(moved.res.status).toBe(401);
    expect(JSON.parse(moved.body).code).toBe('HF_UNAUTHENTICATED');
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();

    // A leftover intent does not turn a later plain sign-in into a link.
    const start3 = await browser.send('POST', '/auth/oauth/local/link');
    await start3.body?.cancel();
    expect(browser.jar.cookies.has(INTENT_COOKIE())).toBe(true);
    const fresh = uniqueEmail('oauth.forge.plain');
    const plainAccount = fx.account(fresh);
    await signIn('local', { account: plainAccount }, browser);
    expect((await browser.me()).body.user.email).toBe(fresh);
    expect(await app.users.listIdentities(userId)).toEqual([]);
    expect(browser.jar.cookies.has(INTENT_COOKIE())).toBe(false);
  });

  test('unlink: needs a recent authentication, never removes the last way to sign in, and the identity stops signing in', async () => {
    const window = app.settings.auth.reauthWindow;
    // An account made by a provider has no password: its only identity cannot go.
    const only = await signIn('local', { account: fx.account(uniqueEmail('oauth.only')) });
    const last = await only.browser.send('DELETE', '/auth/identities/local');
    expect(last.status).toBe(409);
    expect((await json(last)).code).toBe('HF_OAUTH_LAST_METHOD');
    expect((await only.browser.accountPage()).html).not.toContain('Unlink Local ID');

    const email = uniqueEmail('oauth.unlink');
    const { browser, userId } = await registerWithPassword(email);
    const account = fx.account(email);
    fx.next = { account };
    await browser.follow(await browser.send('POST', '/auth/oauth/local/link'));
    expect((await signIn('local', { account })).res.status).toBe(200);

    app.clock.now += window + 1;
    const late = await browser.send('DELETE', '/auth/identities/local');
    expect(late.status).toBe(403);
    expect((await json(late)).code).toBe('HF_REAUTH_REQUIRED');
    expect(await app.users.listIdentities(userId)).toHaveLength(1);
    const wrong = await browser.send('POST', '/auth/reauth', { password: 'wrong password!' });
    expect(wrong.status).toBe(403);
    expect((await json(wrong)).code).toBe('HF_PASSWORD_MISMATCH');
    expect(
      (await browser.send('POST', '/auth/reauth', { password: 'correct horse battery' })).status,
    ).toBe(200);
    // The page's button, now that the user confirmed.
    const res = await browser.submit('/account/oauth/local/unlink');
    expect(res.headers.get('location')).toBe('/account?done=unlinked&provider=local');
    expect(await app.users.listIdentities(userId)).toEqual([]);
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();
    // The provider account no longer signs in; its address is the account's: link required.
    const after = await signIn('local', { account });
    expect(JSON.parse(after.body).code).toBe('HF_OAUTH_LINK_REQUIRED');
    const none = await browser.send('DELETE', '/auth/identities/local');
    expect(none.status).toBe(404);
    expect((await json(none)).code).toBe('HF_OAUTH_NOT_LINKED');
  });

  test('an account without a password re-authenticates through its linked provider: a new session id, method oauth', async () => {
    const window = app.settings.auth.reauthWindow;
    const account = fx.account(uniqueEmail('oauth.confirm'));
    const { browser } = await signIn('local', { account });
    app.clock.now += window + 1;
    const refused = await browser.send('DELETE', '/auth/sessions');
    expect(refused.status).toBe(403);
    expect((await json(refused)).code).toBe('HF_REAUTH_REQUIRED');
    const noPassword = await browser.send('POST', '/auth/reauth', { password: 'anything at all' });
    expect(noPassword.status).toBe(403);
    expect((await json(noPassword)).message).toMatch(/no password/);
    const page = await browser.accountPage();
    expect(page.html).toContain("action='/account/oauth/local/reauth'");
    expect(page.html).not.toContain("action='/account/reauth'");

    // Another Local ID account than the linked one does not confirm anything: neither one linked
    // to nobody, nor one linked to another user.
    const before = (await browser.me()).body.session.id;
    const someoneElses = fx.account(uniqueEmail('oauth.confirm.else'));
    expect((await signIn('local', { account: someoneElses })).res.status).toBe(200);
    for (const stranger of [fx.account(uniqueEmail('oauth.confirm.other')), someoneElses]) {
      fx.next = { account: stranger };
      const wrong = await browser.follow(await browser.send('POST', '/auth/oauth/local/reauth'));
      expect(wrong.res.status).toBe(404);
      expect(JSON.parse(wrong.body).code).toBe('HF_OAUTH_NOT_LINKED');
      expect((await browser.me()).body.session.id).toBe(before);
    }

    fx.next = { account };
    const flow = await browser.follow(await browser.submit('/account/oauth/local/reauth'));
    expect(flow.hops.at(-2)?.location).toBe('/account?done=reauth');
    const me = (await browser.me()).body;
    expect(me.session.method).toBe('oauth');
    expect(me.session.id).not.toBe(before);
    expect((await browser.send('DELETE', '/auth/sessions')).status).toBe(200);
  });

  test('an unverified email is refused: 403 HF_OAUTH_FAILED, no user, no session', async () => {
    const before = stats();
    const email = uniqueEmail('oauth.unverified');
    const { browser, res, body } = await signIn('local', { account: fx.account(email, false) });
    expect(res.status).toBe(403);
    expect(JSON.parse(body)).toMatchObject({
      code: 'HF_OAUTH_FAILED',
      message: expect.stringMatching(/no verified email/),
    });
    expect(await app.users.findByEmail(email)).toBeNull();
    expect(browser.sessionCookie()).toBeUndefined();
    expect((await browser.me()).status).toBe(401);
    expect(stats()).toEqual({ ...before, failures: before.failures + 1 });

    // A browser (Accept: text/html) gets the login page with the reason, still 403.
    const html = await signIn(
      'local',
      { account: fx.account(uniqueEmail('oauth.unverified'), false) },
      new Browser('text/html,application/xhtml+xml'),
    );
    expect(html.res.status).toBe(403);
    expect(html.res.headers.get('content-type')).toMatch(/text\/html/);
    expect(html.body).toMatch(/no verified email address/);
    expect(html.body).toMatch(/href='\/auth\/oauth\/local'/);
    expect(html.res.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    expect(html.browser.sessionCookie()).toBeUndefined();
  });

  test('consent denied, a provider error or a failed token exchange: clear 4xx, no session, no loop', async () => {
    const before = stats();
    const authorizeCalls = fx.count('authorize');

    const denied = await signIn('local', { error: 'access_denied' });
    expect(denied.res.status).toBe(403);
    expect(JSON.parse(denied.body)).toMatchObject({
      code: 'HF_OAUTH_FAILED',
      message: expect.stringMatching(/cancelled or refused/),
    });
    expect(denied.browser.sessionCookie()).toBeUndefined();
    // The state cookie is cleared too.
    expect(denied.browser.jar.cookies.size).toBe(0);

    // bell alone would start a new sign-in on any error but access_denied: one visit only.
    const failed = await signIn('local', { error: 'temporarily_unavailable' });
    expect(failed.res.status).toBe(403);
    expect(JSON.parse(failed.body).message).toMatch(/could not complete.*temporarily_unavailable/);
    expect(failed.hops).toHaveLength(3);
    expect(fx.count('authorize')).toBe(authorizeCalls + 2);

    // Provider-supplied text is not echoed.
    const odd = await signIn('local', { error: '<script>alert(1)</script>' });
    expect(odd.res.status).toBe(403);
    expect(odd.body).not.toMatch(/script/);

    fx.failToken = true;
    try {
      const tokenFail = await signIn('local', {
        account: fx.account(uniqueEmail('oauth.tokenfail')),
      });
      expect(tokenFail.res.status).toBe(403);
      expect(JSON.parse(tokenFail.body)).toMatchObject({
        code: 'HF_OAUTH_FAILED',
        message: expect.stringMatching(/did not complete the sign-in/),
      });
      expect(tokenFail.browser.sessionCookie()).toBeUndefined();
    } finally {
      fx.failToken = false;
    }
    expect(stats()).toEqual({ ...before, failures: before.failures + 4 });
  });

  test('state mismatch on the callback is refused (CSRF), and so is a callback this browser never started', async () => {
    const before = stats();
    const victim = new Browser();
    fx.next = { account: fx.account(uniqueEmail('oauth.attacker')) };
    const start = await victim.request(`/auth/oauth/local`, {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(start.status).toBe(302);
    expect(victim.jar.cookies.has(`${app.settings.cookie.name}_oauth_local`)).toBe(true);
    const atProvider = await fetch(start.headers.get('location')!, { redirect: 'manual' });
    const callback = new URL(atProvider.headers.get('location')!);
    expect(callback.searchParams.get('code')).toBeTruthy();

    const forged = new URL(callback);
    forged.searchParams.set('state', 'AAAAAAAAAAAAAAAAAAAAAA');
    const tokenCalls = fx.count('token');
    const refused = await victim.request(forged.toString(), {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(refused.status).toBe(403);
    expect(await refused.json()).toMatchObject({ code: 'HF_CSRF' });
    expect(fx.count('token')).toBe(tokenCalls); // the code was never exchanged
    expect(victim.sessionCookie()).toBeUndefined();

    // Login CSRF: an attacker's genuine callback URL opened in a browser that started nothing.
    fx.next = { account: fx.account(uniqueEmail('oauth.attacker')) };
    const attacker = new Browser();
    const aStart = await attacker.request('/auth/oauth/local', {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    const aProvider = await fetch(aStart.headers.get('location')!, { redirect: 'manual' });
    const planted = await new Browser().navigate(aProvider.headers.get('location')!, 'cross-site');
    // bell answers once with a same-site refresh page, then refuses.
    expect(planted.hops[0].status).toBe(200);
    expect(planted.body).toMatch(/http-equiv="refresh"/);
    const refresh = /URL='([^']+)'/.exec(planted.body)![1];
    const retried = await new Browser().request(refresh.replace(/&amp;/g, '&'), {
      headers: { 'sec-fetch-site': 'same-origin' },
    });
    expect(retried.status).toBe(403);
    expect(await retried.json()).toMatchObject({ code: 'HF_CSRF' });
    expect(stats()).toEqual({ ...before, failures: before.failures + 2 });
  });

  test('a sign-in started from another site is refused (no silent sign-in, ASVS 5.0 V7.6.2)', async () => {
    const authorizeCalls = fx.count('authorize');
    const browser = new Browser();
    const res = await browser.request('/auth/oauth/local', {
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ code: 'HF_CSRF' });
    const evil = await browser.request('/auth/oauth/local', {
      headers: { origin: 'https://evil.example' },
    });
    expect(evil.status).toBe(403);
    expect(fx.count('authorize')).toBe(authorizeCalls);
    expect(browser.jar.cookies.size).toBe(0);
  });

  test('no fixation: the session the browser had ends, the new one has a new id and method oauth', async () => {
    const { browser } = await registerWithPassword(uniqueEmail('oauth.prev'));
    const oldCookie = browser.sessionCookie()!;
    const oldSession = (await browser.me()).body.session.id;
    const email = uniqueEmail('oauth.next');
    await signIn('local', { account: fx.account(email) }, browser);
    const me = await browser.me();
    expect(me.body.user.email).toBe(email);
    expect(me.body.session.id).not.toBe(oldSession);
    expect(me.body.session.method).toBe('oauth');
    expect(browser.sessionCookie()).not.toBe(oldCookie);
    const stale = await fetch(`${base}/auth/me`, {
      headers: { cookie: `${app.settings.cookie.name}=${oldCookie}` },
    });
    expect(stale.status).toBe(401);
  });

  test('GitHub (from settings): the primary email from /user/emails and GitHub’s verified flag decide', async () => {
    const email = uniqueEmail('oauth.github');
    const ok = await signIn('github', { account: fx.account(email) });
    expect(ok.hops[0].location).toMatch(new RegExp(`^${fx.url}/login/oauth/authorize\\?`));
    expect(new URL(ok.hops[0].location!).searchParams.get('scope')).toBe('user:email');
    const me = await ok.browser.me();
    expect(me.status).toBe(200);
    expect(me.body.user.email).toBe(email);
    expect(fx.seen.filter((s) => s.kind === 'github-emails').at(-1)?.detail.authorized).toBe('yes');
    expect(fx.seen.filter((s) => s.kind === 'token').at(-1)?.detail).toMatchObject({
      client_auth: 'params',
      pkce: 'yes',
    });

    // Primary unverified, a verified secondary: GitHub has not vouched for the primary.
    const other = uniqueEmail('oauth.github.unverified');
    const account = fx.account(other, false);
    account.emails.push({ email: uniqueEmail('secondary'), primary: false, verified: true });
    const refused = await signIn('github', { account });
    expect(refused.res.status).toBe(403);
    expect(JSON.parse(refused.body).code).toBe('HF_OAUTH_FAILED');
    expect(await app.users.findByEmail(other)).toBeNull();
  });

  test('Google: email_verified decides', async () => {
    const verified = uniqueEmail('oauth.google');
    const ok = await signIn('google', { account: fx.account(verified) });
    expect(ok.hops[0].location).toMatch(new RegExp(`^${fx.url}/o/oauth2/v2/auth\\?`));
    expect((await ok.browser.me()).body.user.email).toBe(verified);

    const unverified = uniqueEmail('oauth.google.unverified');
    const refused = await signIn('google', { account: fx.account(unverified, false) });
    expect(refused.res.status).toBe(403);
    expect(await app.users.findByEmail(unverified)).toBeNull();
  });

  test('the login page shows a button for each configured provider; OpenAPI lists the route', async () => {
    const page = await new Browser('text/html').navigate('/login');
    expect(page.res.status).toBe(200);
    for (const [path, label] of [
      ['/auth/oauth/github', 'GitHub'],
      ['/auth/oauth/local', 'Local ID'],
      ['/auth/oauth/google', 'Google'],
    ]) {
      expect(page.body).toContain(`href='${path}'>${label}</a>`);
    }
    const unknown = await new Browser().request('/auth/oauth/nope');
    expect(unknown.status).toBe(404);
    const doc = (await (await fetch(`${base}/auth/openapi.json`)).json()) as {
      paths: Record<string, { get: { parameters: Array<{ schema: { enum?: string[] } }> } }>;
    };
    expect(doc.paths['/auth/oauth/{provider}'].get.parameters[0].schema.enum).toEqual([
      'github',
      'local',
      'google',
    ]);
  });

  test('only configured providers are registered', async () => {
    const bare = await buildTestApp();
    const login = await bare.server.inject('/login');
    expect(login.payload).not.toMatch(/\/auth\/oauth\//);
    for (const p of ['github', 'google']) {
      const r = await bare.server.inject(`/auth/oauth/${p}`);
      expect(r.statusCode).toBe(404);
      expect(JSON.parse(r.payload).message).toMatch(/no OAuth provider is configured/);
    }
    const githubOnly = await buildTestApp({
      settings: testSettings({ oauth: { github: { clientId: 'id', clientSecret: 'secret' } } }),
    });
    expect((await githubOnly.server.inject('/auth/oauth/google')).statusCode).toBe(404);
    const start = await githubOnly.server.inject('/auth/oauth/github');
    expect(start.statusCode).toBe(302);
    expect(start.headers.location).toMatch(/^https:\/\/github\.com\/login\/oauth\/authorize\?/);
  });

  test('the state cookie: its own name, HttpOnly, SameSite=Lax, Secure and __Host- when cookie.secure', async () => {
    const res = await new Browser().request('/auth/oauth/local');
    const set = res.headers.getSetCookie();
    expect(set).toHaveLength(1);
    expect(set[0]).toMatch(new RegExp(`^${app.settings.cookie.name}_oauth_local=Fe26\\.2\\*\\*`));
    expect(set[0]).toMatch(/; HttpOnly/);
    expect(set[0]).toMatch(/; SameSite=Lax/);
    expect(set[0]).toMatch(/; Path=\//);
    expect(set[0]).toMatch(/; Max-Age=600/);
    expect(set[0]).not.toMatch(/Secure/);

    const secure = await buildTestApp({
      settings: testSettings({
        cookie: { secure: true },
        oauth: { github: { clientId: 'id', clientSecret: 'secret' } },
      }),
    });
    const r = await secure.server.inject({
      url: '/auth/oauth/github',
      headers: { host: 'app.example.com' },
    });
    expect(r.statusCode).toBe(302);
    const cookie = String(r.headers['set-cookie']);
    expect(cookie).toMatch(/^__Host-holdfast_oauth_github=/);
    expect(cookie).toMatch(/; Secure/);
    // Secure cookies mean an https site (perhaps behind a TLS proxy): the callback is https.
    expect(new URL(String(r.headers.location)).searchParams.get('redirect_uri')).toBe(
      'https://app.example.com/auth/oauth/github',
    );
  });

  test('oauth.location and oauth.redirectTo settings are used', async () => {
    const custom = await buildTestApp({
      settings: testSettings({
        oauth: {
          location: 'https://public.example.com/',
          github: { clientId: 'id', clientSecret: 'secret' },
        },
      }),
    });
    const r = await custom.server.inject('/auth/oauth/github');
    expect(new URL(String(r.headers.location)).searchParams.get('redirect_uri')).toBe(
      'https://public.example.com/auth/oauth/github',
    );

    const api = await buildTestApp({
      settings: testSettings({ oauth: { redirectTo: '/welcome?from=oauth' } }),
      pages: false,
      extra: {
        oauthProviders: {
          local: fx.pluginEntry(),
        },
      },
    });
    await api.server.start();
    try {
      fx.next = { account: fx.account(uniqueEmail('oauth.redirect')) };
      const flow = await new Browser('*/*', api.server.info.uri).navigate('/auth/oauth/local');
      expect(flow.hops[2]).toMatchObject({ status: 303, location: '/welcome?from=oauth' });
      expect(api.sessions.stats.created.oauth).toBe(1);
    } finally {
      await api.server.stop();
    }
    expect(() => testSettings({ oauth: { redirectTo: '//evil.example' } })).toThrow(
      /oauth.redirectTo/,
    );
    expect(() => testSettings({ oauth: { redirectTo: 'https://evil.example' } })).toThrow(
      /oauth.redirectTo/,
    );
  });

  test('under a route prefix, the sign-in and every redirect after it stay under the prefix', async () => {
    const prefixed = await buildTestApp({
      settings: testSettings(),
      prefix: '/id',
      extra: {
        oauthProviders: {
          local: fx.pluginEntry(),
        },
      },
    });
    await prefixed.server.start();
    try {
      fx.next = { account: fx.account(uniqueEmail('oauth.prefix')) };
      const flow = await new Browser('*/*', prefixed.server.info.uri).navigate(
        '/id/auth/oauth/local',
      );
      expect(flow.hops[2]).toMatchObject({ status: 303, location: '/id/account' });
      expect(prefixed.sessions.stats.created.oauth).toBe(1);
    } finally {
      await prefixed.server.stop();
    }
  });

  test('oauthProviders are validated and the error names the option', async () => {
    const settings = testSettings();
    const bad = (oauthProviders: unknown) =>
      buildTestApp({ settings, extra: { oauthProviders: oauthProviders as never } });
    await expect(
      bad({ 'Bad Name': { provider: fx.bellProvider(), clientId: 'a', clientSecret: 'b' } }),
    ).rejects.toThrow(/"oauthProviders.Bad Name" is not a usable provider name/);
    await expect(
      bad({ x: { provider: { ...fx.bellProvider(), profile: undefined }, clientId: 'a' } }),
    ).rejects.toThrow(
      /oauthProviders\.x\.provider\.profile" is required.*"oauthProviders\.x\.clientSecret" is required/s,
    );
  });

  test('a provider-created account is verified already: no verification message', async () => {
    const email = uniqueEmail('oauth.noverify');
    const { browser } = await signIn('local', { account: fx.account(email) });
    expect((await browser.me()).body.user.emailVerified).toBe(true);
    await app.verification!.idle();
    await smtp.expectNoMailTo(email);
  });

  test('a new link from /account mails a notice (identity-linked) to the account, with the provider and no secret', async () => {
    const email = uniqueEmail('oauth.notice');
    const { browser, userId } = await registerWithPassword(email);
    expect((await smtp.nextTo(email)).kind).toBe('verify');
    const notified: unknown[] = [];
    const listener = (e: unknown) => notified.push(e);
    app.events.on('notified', listener);
    fx.next = { account: fx.account(uniqueEmail('oauth.notice.other')) };
    const flow = await browser.follow(await browser.submit('/account/oauth/local/link'));
    expect(flow.hops.at(-2)?.location).toBe('/account?done=linked&provider=local');
    const mail = await smtp.nextTo(email);
    expect(mail.kind).toBe('identity-linked');
    expect(mail.subject).toBe('A new way to sign in was added to your account');
    expect(mail.text).toMatch(
      /Your Local ID account was linked to your account at holdfast\.test on \d{4}-\d\d-\d\d \d\d:\d\d UTC/,
    );
    expect(mail.text).toContain('http://holdfast.test/account');
    for (const secret of [...fx.issued, fx.clientSecret, ...browser.jar.cookies.values()])
      if (secret) expect(mail.raw).not.toContain(secret);
    await app.notifications!.idle();
    app.events.off('notified', listener);
    expect(notified).toEqual([{ userId, kind: 'identity-linked', sent: true }]);
  });

  test('a provider sign-in with the verified address of a Holdfast-verified password account links it and signs in; a notice is mailed', async () => {
    const email = uniqueEmail('oauth.proved');
    const { userId } = await registerWithPassword(email);
    const token = linkIn(await smtp.nextTo(email), '/verify-email').searchParams.get('token');
    const verified = await new Browser().send('POST', '/auth/verify-email', { token });
    expect(verified.status).toBe(200);
    const linked: unknown[] = [];
    const listener = (e: unknown) => linked.push(e);
    app.events.on('identityLinked', listener);
    const account = fx.account(email.toUpperCase());
    const { browser, res, hops } = await signIn('local', { account });
    app.events.off('identityLinked', listener);
    expect(hops.at(-2)?.location).toBe('/account');
    expect(res.status).toBe(200);
    expect((await browser.me()).body).toMatchObject({
      user: { id: userId, emailVerified: true },
      session: { method: 'oauth' },
    });
    expect((await app.users.findByIdentity('local', String(account.id)))?.id).toBe(userId);
    expect(linked).toEqual([
      {
        userId,
        provider: 'local',
        label: 'Local ID',
        merged: false,
        endedPassword: false,
        revokedSessions: 0,
        automatic: true,
      },
    ]);
    // The password still works: the address was the holder's own, proved by Holdfast's link.
    const login = await new Browser().send('POST', '/auth/login', {
      email,
      password: 'correct horse battery',
    });
    expect(login.status).toBe(200);
    const mail = await smtp.nextTo(email);
    expect(mail.kind).toBe('identity-linked');
    expect(mail.text).toMatch(/Your Local ID account was linked/);
  });

  test("pre-hijacking with verification on: a squatter's unverified account is never linked, even after it asked for the link again; a disabled verified account neither", async () => {
    const email = uniqueEmail('oauth.squat2');
    const { browser: squatter, userId } = await registerWithPassword(email);
    // The squatter can ask for the message again, but it goes to the victim's mailbox.
    const again = await squatter.send('POST', '/auth/verify-email/send', {});
    expect(again.status).toBe(202);
    await app.verification!.idle();
    const account = fx.account(email);
    const victim = await signIn('local', { account });
    expect(victim.res.status).toBe(409);
    expect(JSON.parse(victim.body).code).toBe('HF_OAUTH_LINK_REQUIRED');
    expect((await victim.browser.me()).status).toBe(401);
    expect(await app.users.findByIdentity('local', String(account.id))).toBeNull();
    expect(await app.users.listIdentities(userId)).toEqual([]);
    expect((await app.users.findById(userId))?.emailVerified).toBe(false);

    // Verified, then disabled: not linked either, nothing changes.
    const other = uniqueEmail('oauth.disabled');
    const d = await registerWithPassword(other);
    const token = linkIn(await smtp.nextTo(other), '/verify-email').searchParams.get('token');
    expect((await new Browser().send('POST', '/auth/verify-email', { token })).status).toBe(200);
    await app.accounts.disableUser(d.userId);
    const disabledAccount = fx.account(other);
    const refused = await signIn('local', { account: disabledAccount });
    expect(refused.res.status).toBe(409);
    expect(await app.users.findByIdentity('local', String(disabledAccount.id))).toBeNull();
    // An unverified email from the provider never links, whatever the account.
    const unverified = await signIn('google', { account: fx.account(other, false) });
    expect(unverified.res.status).toBe(403);
  });

  // Last: looks at everything the tests above logged.
  test('no code, access token, client secret or cookie value reaches a log', async () => {
    const log = logLines.join('\n');
    expect(log).toMatch(/"audit":"login"/);
    expect(log).toMatch(/"audit":"login_failed".*"cause":"unverified_email"/);
    expect(fx.issued.length).toBeGreaterThan(10);
    for (const secret of [...fx.issued, fx.clientSecret, ...cookieValues]) {
      if (secret) expect(log).not.toContain(secret);
    }
  });
});
