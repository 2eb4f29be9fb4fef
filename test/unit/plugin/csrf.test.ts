/**
 * CSRF (ASVS 5.0 V3.5.1-V3.5.3, 4.0.3 V13.2.3): the Origin / Sec-Fetch-Site check on every
 * state-changing route, the form crumb, and the Csrf rules on their own behind a real hapi route.
 */
import { createHmac, hkdfSync } from 'node:crypto';
import Hapi from '@hapi/hapi';
import { HoldfastError } from '../../../src/errors';
import { Csrf, toBoom } from '../../../src/plugin';
import { buildTestApp, TestApp } from '../../support/app';
import { call, errorOf, Jar } from '../../support/inject';

const PASSWORD = 'correct horse battery';
const NEW_PASSWORD = 'a new password!';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
/** What the test's own pages would send: the same origin as the Host header. */
const SAME_SITE = { host: 'holdfast.test', origin: 'http://holdfast.test' };
const CROSS_SITE: Array<[string, Record<string, string>]> = [
  ['Origin: https://evil.example', { origin: 'https://evil.example' }],
  ['Sec-Fetch-Site: cross-site and no Origin', { 'sec-fetch-site': 'cross-site' }],
];

let app: TestApp;
// A fresh app per test: what building it runs then counts for each test, so mutation testing
// (perTest coverage) re-runs only the tests that reach a mutant instead of every test.
beforeEach(async () => {
  app = await buildTestApp({ pages: true });
});
afterEach(() => app.server.stop());

let n = 0;
interface Account {
  email: string;
  id: string;
  /** Signed in twice: `jar` is this browser, `other` another device. */
  jar: Jar;
  other: Jar;
  otherSessionId: string;
}

async function account(): Promise<Account> {
  const email = `csrf.${process.pid}.${Date.now()}.${++n}@example.com`;
  const jar = new Jar();
  const r = await call(app.server, jar, 'POST', '/auth/register', { email, password: PASSWORD });
  expect(r.statusCode).toBe(201);
  const other = new Jar();
  const o = await call(app.server, other, 'POST', '/auth/login', { email, password: PASSWORD });
  return {
    email,
    id: JSON.parse(r.payload).user.id,
    jar,
    other,
    otherSessionId: JSON.parse(o.payload).session.id,
  };
}

/** The crumb the account page hands this browser (what a real form posts back). */
async function crumbOf(jar: Jar): Promise<string> {
  const page = await call(app.server, jar, 'GET', '/account');
  const m = /name='crumb' value='([^']+)'/.exec(page.payload);
  if (!m) throw new Error('the account page has no crumb');
  return m[1];
}

async function alive(jar: Jar): Promise<boolean> {
  return (await call(app.server, jar, 'GET', '/auth/me')).statusCode === 200;
}

async function passwordIs(email: string, password: string): Promise<boolean> {
  const r = await call(app.server, null, 'POST', '/auth/login', { email, password });
  return r.statusCode === 200;
}

interface Case {
  name: string;
  /** Sent without the account's cookie (login CSRF: the attacker's own credentials). */
  anonymous?: boolean;
  /** Builds the request from a fresh account; `form` pages get a valid crumb. */
  request(a: Account): Promise<{ method: string; url: string; payload?: object | string }>;
  /** Holds when the request changed nothing. */
  unchanged(a: Account, email: string): Promise<void>;
  /** Holds when the same request, sent from the site itself, did its work. */
  done(a: Account, email: string, res: { statusCode: number }): Promise<void>;
}

const form = (o: Record<string, string>) => new URLSearchParams(o).toString();
const newEmail = (a: Account) => `new.${a.email}`;

const CASES: Case[] = [
  {
    name: 'POST /auth/register',
    anonymous: true,
    request: async (a) => ({
      method: 'POST',
      url: '/auth/register',
      payload: { email: newEmail(a), password: PASSWORD },
    }),
    unchanged: async (a) => expect(await app.users.findByEmail(newEmail(a))).toBeNull(),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(201);
      expect(await app.users.findByEmail(newEmail(a))).not.toBeNull();
    },
  },
  {
    name: 'POST /register (page)',
    anonymous: true,
    request: async (a) => ({
      method: 'POST',
      url: '/register',
      payload: form({ email: newEmail(a), password: PASSWORD }),
    }),
    unchanged: async (a) => expect(await app.users.findByEmail(newEmail(a))).toBeNull(),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await app.users.findByEmail(newEmail(a))).not.toBeNull();
    },
  },
  {
    name: 'POST /auth/login',
    anonymous: true,
    request: async (a) => ({
      method: 'POST',
      url: '/auth/login',
      payload: { email: a.email, password: PASSWORD },
    }),
    unchanged: async (a) => expect(await app.sessions.list(a.id)).toHaveLength(2),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(200);
      expect(await app.sessions.list(a.id)).toHaveLength(3);
    },
  },
  {
    name: 'POST /login (page)',
    anonymous: true,
    request: async (a) => ({
      method: 'POST',
      url: '/login',
      payload: form({ email: a.email, password: PASSWORD }),
    }),
    unchanged: async (a) => expect(await app.sessions.list(a.id)).toHaveLength(2),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await app.sessions.list(a.id)).toHaveLength(3);
    },
  },
  {
    name: 'POST /auth/password',
    request: async () => ({
      method: 'POST',
      url: '/auth/password',
      payload: { currentPassword: PASSWORD, newPassword: NEW_PASSWORD },
    }),
    unchanged: async (a) => {
      expect(await passwordIs(a.email, PASSWORD)).toBe(true);
      expect(await alive(a.other)).toBe(true);
    },
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(200);
      expect(await passwordIs(a.email, NEW_PASSWORD)).toBe(true);
    },
  },
  {
    name: 'POST /account/password (page)',
    request: async (a) => ({
      method: 'POST',
      url: '/account/password',
      payload: form({
        crumb: await crumbOf(a.jar),
        currentPassword: PASSWORD,
        newPassword: NEW_PASSWORD,
      }),
    }),
    unchanged: async (a) => {
      expect(await passwordIs(a.email, PASSWORD)).toBe(true);
      expect(await alive(a.other)).toBe(true);
    },
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await passwordIs(a.email, NEW_PASSWORD)).toBe(true);
    },
  },
  {
    name: 'POST /auth/logout',
    request: async () => ({ method: 'POST', url: '/auth/logout' }),
    unchanged: async (a) => expect(await alive(a.jar)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(204);
      expect(await app.sessions.list(a.id)).toHaveLength(1);
    },
  },
  {
    name: 'POST /logout (page)',
    request: async (a) => ({
      method: 'POST',
      url: '/logout',
      payload: form({ crumb: await crumbOf(a.jar) }),
    }),
    unchanged: async (a) => expect(await alive(a.jar)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await app.sessions.list(a.id)).toHaveLength(1);
    },
  },
  {
    name: 'DELETE /auth/sessions',
    request: async () => ({ method: 'DELETE', url: '/auth/sessions' }),
    unchanged: async (a) => expect(await alive(a.other)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(200);
      expect(await alive(a.other)).toBe(false);
    },
  },
  {
    name: 'DELETE /auth/sessions/{id}',
    request: async (a) => ({ method: 'DELETE', url: `/auth/sessions/${a.otherSessionId}` }),
    unchanged: async (a) => expect(await alive(a.other)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(204);
      expect(await alive(a.other)).toBe(false);
    },
  },
  {
    name: 'POST /account/sessions/revoke-others (page)',
    request: async (a) => ({
      method: 'POST',
      url: '/account/sessions/revoke-others',
      payload: form({ crumb: await crumbOf(a.jar) }),
    }),
    unchanged: async (a) => expect(await alive(a.other)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await alive(a.other)).toBe(false);
    },
  },
  {
    name: 'POST /account/sessions/{id}/revoke (page)',
    request: async (a) => ({
      method: 'POST',
      url: `/account/sessions/${a.otherSessionId}/revoke`,
      payload: form({ crumb: await crumbOf(a.jar) }),
    }),
    unchanged: async (a) => expect(await alive(a.other)).toBe(true),
    done: async (a, _e, res) => {
      expect(res.statusCode).toBe(303);
      expect(await alive(a.other)).toBe(false);
    },
  },
];

describe('cross-site requests to every state-changing route are refused and change nothing', () => {
  test.each(CASES.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const a = await account();
    const { method, url, payload } = await c.request(a);
    const base = {
      ...(c.anonymous ? {} : { cookie: a.jar.header() as string }),
      ...(typeof payload === 'string' ? FORM : {}),
    };
    // Each refused request changes nothing, so one account serves both.
    for (const [, cross] of CROSS_SITE) {
      const res = await app.server.inject({ method, url, payload, headers: { ...base, ...cross } });
      expect(res.statusCode).toBe(403);
      expect(errorOf(res).code).toBe('HF_CSRF');
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    await c.unchanged(a, a.email);
    expect(await alive(a.jar)).toBe(true);

    // The very same request from the site itself works: only its origin was wrong.
    const ok = await app.server.inject({
      method,
      url,
      payload,
      headers: { ...base, ...SAME_SITE },
    });
    await c.done(a, a.email, ok);
  });
});

/** A real route that runs one Csrf check; HoldfastErrors become HTTP as in the plugin. */
async function checkServer(csrf: Csrf) {
  const server = Hapi.server({ debug: false });
  server.ext('onPreResponse', (r, h) =>
    r.response instanceof HoldfastError ? toBoom(r.response) : h.continue,
  );
  server.route([
    {
      method: 'POST',
      path: '/origin',
      handler: (r) => (csrf.checkOrigin(r), 'ok'),
    },
    {
      method: 'POST',
      path: '/crumb/{sid}',
      handler: (r) => (
        csrf.checkCrumb(String(r.params.sid), (r.payload as { crumb?: unknown }).crumb),
        'ok'
      ),
    },
  ]);
  await server.initialize();
  const post = async (url: string, headers: Record<string, string>, payload?: object) => {
    const res = await server.inject({ method: 'POST', url, headers, payload });
    return {
      status: res.statusCode,
      code: res.statusCode === 200 ? null : JSON.parse(res.payload).code,
      message: res.statusCode === 200 ? '' : JSON.parse(res.payload).message,
    };
  };
  return { post };
}

const KEY_PASSWORD = 'a cookie password of at least 32 characters';

describe('Csrf.checkOrigin', () => {
  test('same origin, configured origins, and requests with neither header pass', async () => {
    const { post } = await checkServer(new Csrf(KEY_PASSWORD, ['https://app.example/'], false));
    const host = { host: 'holdfast.test:8080' };
    expect((await post('/origin', { ...host, origin: 'http://holdfast.test:8080' })).status).toBe(
      200,
    );
    expect((await post('/origin', { ...host, origin: 'https://holdfast.test:8080' })).status).toBe(
      200,
    );
    expect((await post('/origin', { ...host, origin: 'https://app.example' })).status).toBe(200);
    expect((await post('/origin', host)).status).toBe(200);
    // Without Origin, Sec-Fetch-Site decides: the site itself, or the user typing the URL.
    for (const site of ['same-origin', 'none']) {
      expect((await post('/origin', { ...host, 'sec-fetch-site': site })).status).toBe(200);
    }
  });

  test('another site, another port, another scheme or an opaque origin is refused with a message naming the header', async () => {
    const { post } = await checkServer(new Csrf(KEY_PASSWORD, ['https://app.example'], false));
    const host = { host: 'holdfast.test:8080' };
    for (const origin of [
      'https://evil.example',
      'http://holdfast.test', // another port
      'http://holdfast.test:8081',
      'https://app.example:444',
      'ftp://holdfast.test:8080',
      'null',
      'not a url',
    ]) {
      const r = await post('/origin', { ...host, origin });
      expect([origin, r.status, r.code]).toEqual([origin, 403, 'HF_CSRF']);
      expect(r.message).toMatch(/Origin header/);
    }
    for (const site of ['cross-site', 'same-site', 'other']) {
      const r = await post('/origin', { ...host, 'sec-fetch-site': site });
      expect([site, r.status, r.code]).toEqual([site, 403, 'HF_CSRF']);
      expect(r.message).toMatch(/Sec-Fetch-Site/);
    }
    // Origin decides when present, whatever Sec-Fetch-Site says.
    expect(
      (await post('/origin', { ...host, origin: 'https://evil.example', 'sec-fetch-site': 'none' }))
        .status,
    ).toBe(403);
  });

  test('with Secure cookies, only an https Origin of this host passes', async () => {
    const { post } = await checkServer(new Csrf(KEY_PASSWORD, [], true));
    const host = { host: 'holdfast.test' };
    expect((await post('/origin', { ...host, origin: 'https://holdfast.test' })).status).toBe(200);
    expect((await post('/origin', { ...host, origin: 'http://holdfast.test' })).status).toBe(403);
  });
});

describe('Csrf crumbs', () => {
  test('are HMAC-SHA256 of the session id under a key derived from cookie.password: the same on every node', () => {
    const key = Buffer.from(hkdfSync('sha256', KEY_PASSWORD, 'holdfast', 'csrf-crumb-v1', 32));
    const expected = createHmac('sha256', key).update('session-a').digest('base64url');
    expect(new Csrf(KEY_PASSWORD, [], false).crumb('session-a')).toBe(expected);
    expect(new Csrf(KEY_PASSWORD, [], true).crumb('session-a')).toBe(expected);
    expect(new Csrf(`${KEY_PASSWORD}!`, [], false).crumb('session-a')).not.toBe(expected);
    expect(new Csrf(KEY_PASSWORD, [], false).crumb('session-b')).not.toBe(expected);
  });

  test('only the crumb of this session passes; a missing, wrong, short or non-text one is HF_CSRF', async () => {
    const csrf = new Csrf(KEY_PASSWORD, [], false);
    const { post } = await checkServer(csrf);
    const good = csrf.crumb('session-a');
    expect((await post('/crumb/session-a', {}, { crumb: good })).status).toBe(200);
    for (const crumb of [
      undefined,
      '',
      csrf.crumb('session-b'),
      good.slice(0, -1),
      `${good}A`,
      good.slice(0, -1) + (good.endsWith('A') ? 'B' : 'A'),
      42,
      [good],
      { crumb: good },
    ]) {
      const r = await post('/crumb/session-a', {}, { crumb });
      expect([crumb, r.status, r.code]).toEqual([crumb, 403, 'HF_CSRF']);
      expect(r.message).toMatch(/crumb/);
    }
  });
});
