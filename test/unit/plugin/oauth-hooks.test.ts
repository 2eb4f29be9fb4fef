/**
 * The hooks on an OAuth sign-in through the routes (ADR 120): @hapi/bell against the real local
 * OAuth 2 provider of the integration suite, on the memory store. A first sign-in is a
 * registration (beforeRegister may refuse it); a later one a login (beforeLogin may refuse it). A
 * browser sees the refusal on the login page, a JSON client as 403 with its code.
 */
import { LocalOAuthProvider, ProviderAccount } from '../../support/oauth-provider';
import type { AccountHooks } from '../../../src/accounts';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { errorOf, Jar } from '../../support/inject';

let fx: LocalOAuthProvider;
let app: TestApp;
let base: string;
let seq = 0;
const email = (tag: string) => `oauth.${tag}.${process.pid}.${++seq}@example.com`;
const banned = new Set<string>();
const hooks: AccountHooks = {
  beforeRegister: ({ email: address, method }) =>
    method === 'oauth' && address.startsWith('oauth.outsider.')
      ? { refuse: 'sign-up is by invitation only' }
      : undefined,
  beforeLogin: ({ user }) => (banned.has(user.email) ? { refuse: 'account suspended' } : undefined),
};

beforeAll(async () => {
  fx = await LocalOAuthProvider.start();
  app = await buildTestApp({
    settings: testSettings(),
    hooks,
    extra: {
      oauthProviders: {
        local: fx.pluginEntry(),
      },
    },
  });
  await app.server.start();
  base = app.server.info.uri;
});

afterAll(async () => {
  await app?.server.stop();
  await fx?.stop();
});

/** Starts a sign-in at the local provider as a click on this site, following every redirect. */
async function signIn(account: ProviderAccount, accept: string) {
  fx.next = { account };
  const jar = new Jar();
  let url = `${base}/auth/oauth/local`;
  for (let i = 0; i < 10; i++) {
    const ours = url.startsWith(base);
    const cookie = ours ? jar.header() : undefined;
    const res = await fetch(url, {
      redirect: 'manual',
      headers: {
        accept,
        'sec-fetch-site': i === 0 ? 'same-origin' : 'cross-site',
        ...(cookie ? { cookie } : {}),
      },
    });
    if (ours) jar.take({ headers: { 'set-cookie': res.headers.getSetCookie() } });
    const location = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !location) {
      const payload = await res.text();
      return {
        status: res.status,
        payload,
        headers: { 'content-type': res.headers.get('content-type') },
        jar,
      };
    }
    await res.body?.cancel();
    url = new URL(location, url).toString();
  }
  throw new Error('too many redirects');
}

test('a refused first sign-in shows the hook message on the login page and creates no account', async () => {
  const address = email('outsider');
  const res = await signIn(fx.account(address), 'text/html');
  expect(res.status).toBe(403);
  expect(errorOf(res).message).toBe('sign-up is by invitation only');
  expect(res.payload).toContain("action='/login'");
  expect(res.jar.cookies.has(app.settings.cookie.name)).toBe(false);
  expect(await app.users.findByEmail(address)).toBeNull();
});

test('a later sign-in refused by beforeLogin: the login page for a browser, 403 HF_LOGIN_REFUSED for JSON', async () => {
  const address = email('member');
  // The same provider account each time (a new one with the address would need linking).
  const account = fx.account(address);
  const first = await signIn(account, 'text/html');
  expect(first.status).toBe(200); // /account, signed in
  expect(first.jar.cookies.has(app.settings.cookie.name)).toBe(true);
  banned.add(address);

  const page = await signIn(account, 'text/html');
  expect(page.status).toBe(403);
  expect(errorOf(page).message).toBe('account suspended');
  expect(page.payload).toContain("action='/login'"); // the login page, not a JSON error
  expect(page.jar.cookies.has(app.settings.cookie.name)).toBe(false);

  const api = await signIn(account, 'application/json');
  expect(api.status).toBe(403);
  expect(JSON.parse(api.payload)).toMatchObject({
    code: 'HF_LOGIN_REFUSED',
    message: 'account suspended',
  });
});

test('a disabled account: its OAuth sign-in is the login page with the reason for a browser, 403 HF_ACCOUNT_DISABLED for JSON, and no session; enabled again, it signs in', async () => {
  const address = email('disabled');
  const account = fx.account(address);
  const first = await signIn(account, 'text/html');
  expect(first.status).toBe(200);
  const user = (await app.users.findByEmail(address))!;
  expect(await app.server.plugins.holdfast!.admin.disable({ email: address })).toBe(true);

  const page = await signIn(account, 'text/html');
  expect(page.status).toBe(403);
  expect(errorOf(page).message).toBe('this account is disabled: ask the site administrators');
  expect(page.payload).toContain("action='/login'");
  expect(page.jar.cookies.has(app.settings.cookie.name)).toBe(false);
  const api = await signIn(account, 'application/json');
  expect(api.status).toBe(403);
  expect(JSON.parse(api.payload).code).toBe('HF_ACCOUNT_DISABLED');
  expect(await app.sessions.list(user.id)).toEqual([]);

  expect(await app.server.plugins.holdfast!.admin.enable({ userId: user.id })).toBe(true);
  const again = await signIn(account, 'text/html');
  expect(again.status).toBe(200);
  expect(again.jar.cookies.has(app.settings.cookie.name)).toBe(true);
});
