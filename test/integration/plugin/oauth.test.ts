/**
 * OAuth sign-in end to end: the Holdfast plugin listening on a loopback port, @hapi/bell doing the
 * real redirect dance, and a real local OAuth 2 provider (fixtures/oauth-provider.ts) answering
 * authorize, token and profile requests over HTTP. The "browser" is fetch with a cookie jar that
 * follows redirects itself. Nothing here talks to the internet.
 */
import { Writable } from 'node:stream';
import pino from 'pino';
import { googleProvider } from '../../../src/plugin';
import { buildTestApp, Jar, TestApp, testSettings } from '../../unit/plugin/helpers';
import { uniqueEmail } from '../../unit/plugin/api-suite';
import { LocalOAuthProvider, Outcome } from './fixtures/oauth-provider';

let fx: LocalOAuthProvider;
let app: TestApp;
let base: string;
const logLines: string[] = [];
/** Every cookie value the server set during the tests (none may reach a log). */
const cookieValues = new Set<string>();

beforeAll(async () => {
  fx = await LocalOAuthProvider.start();
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
  });
  app = await buildTestApp({
    settings,
    extra: {
      logger,
      oauthProviders: {
        local: {
          provider: fx.bellProvider(),
          clientId: fx.clientId,
          clientSecret: fx.clientSecret,
          label: 'Local ID',
        },
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
}

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

  test('an existing account with the same verified email is linked, not duplicated', async () => {
    const email = uniqueEmail('oauth.link');
    const { browser: passwordBrowser, userId } = await registerWithPassword(email);
    const account = fx.account(email.toUpperCase()); // the provider spells it differently

    const first = await signIn('local', { account });
    expect(first.hops.at(-2)?.status).toBe(303);
    const me = await first.browser.me();
    expect(me.body.user.id).toBe(userId);
    expect(me.body.user.emailVerified).toBe(true);
    // The account's email had never been proved: whatever sessions it had are ended.
    expect((await passwordBrowser.me()).status).toBe(401);

    // Signing in again with that identity, and with another provider, is the same account.
    const again = await signIn('local', { account });
    expect((await again.browser.me()).body.user.id).toBe(userId);
    const viaGoogle = await signIn('google', { account: fx.account(email) });
    expect((await viaGoogle.browser.me()).body.user.id).toBe(userId);
    expect(await app.users.findByIdentity('local', String(account.id))).toMatchObject({
      id: userId,
    });
    // Still one account for the email, still usable with its password.
    expect((await app.users.findByEmail(email))?.id).toBe(userId);
    const login = await new Browser().request('/auth/login', {
      method: 'POST',
      body: JSON.stringify({ email, password: 'correct horse battery' }),
      headers: { 'content-type': 'application/json', origin: base },
    });
    expect(login.status).toBe(200);
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
          local: {
            provider: fx.bellProvider(),
            clientId: fx.clientId,
            clientSecret: fx.clientSecret,
          },
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
