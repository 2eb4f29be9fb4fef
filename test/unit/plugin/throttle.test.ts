/**
 * Throttling and load shedding through the HTTP API and pages: registration per address, password
 * work bounded per process (HF_BUSY, logins first), and the client address behind trusted proxies.
 */
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

let seq = 0;
const email = (tag: string) => `${tag}.${process.pid}.${Date.now()}.${++seq}@example.com`;
const PASSWORD = 'correct horse battery';

function register(app: TestApp, ip: string, overrides: object = {}, jar: Jar | null = null) {
  return call(
    app.server,
    jar,
    'POST',
    '/auth/register',
    { email: email('reg'), password: PASSWORD, ...overrides },
    { 'x-test-ip': ip },
  );
}

/** Lets queued promise callbacks run, a bounded number of times (never a timer). */
async function until(cond: () => boolean) {
  for (let i = 0; i < 10_000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  expect(cond()).toBe(true);
}

function gate() {
  let open!: () => void;
  const done = new Promise<void>((resolve) => (open = resolve));
  return { open, done };
}

describe('registration', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      settings: testSettings({ throttle: { registrations: 3 } }),
    });
  });
  afterAll(() => app.server.stop());

  test('is throttled per address: past throttle.registrations, 429 HF_REGISTRATION_THROTTLED with Retry-After, nothing created', async () => {
    for (let i = 0; i < 3; i++) expect((await register(app, '198.51.100.7')).statusCode).toBe(201);
    const address = email('refused');
    const r = await register(app, '198.51.100.7', { email: address });
    expect(r.statusCode).toBe(429);
    expect(JSON.parse(r.payload).code).toBe('HF_REGISTRATION_THROTTLED');
    expect(Number(r.headers['retry-after'])).toBe(Math.ceil(app.settings.throttle.window / 1000));
    expect(await app.users.findByEmail(address)).toBeNull();
    // Another address is not affected.
    expect((await register(app, '198.51.100.8')).statusCode).toBe(201);
  });

  test('an IPv6 /64 is one address; the next /64 is another', async () => {
    for (let i = 1; i <= 3; i++)
      expect((await register(app, `2001:db8:5:5::${i}`)).statusCode).toBe(201);
    expect((await register(app, '2001:db8:5:5:ffff::9')).statusCode).toBe(429);
    expect((await register(app, '2001:db8:5:6::1')).statusCode).toBe(201);
  });

  test('the registration page shows the throttle with 429 and Retry-After', async () => {
    const ip = '198.51.100.20';
    for (let i = 0; i < 3; i++) expect((await register(app, ip)).statusCode).toBe(201);
    const r = await app.server.inject({
      method: 'POST',
      url: '/register',
      payload: `email=${encodeURIComponent(email('page'))}&password=correct+horse+battery`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: ip,
    });
    expect(r.statusCode).toBe(429);
    expect(r.headers['retry-after']).toBeDefined();
    expect(r.payload).toMatch(/too many registrations/);
  });

  test('input is checked before any hashing: bad input and a taken email cost no hash', async () => {
    const ip = '198.51.100.30';
    const taken = email('taken');
    expect((await register(app, ip, { email: taken })).statusCode).toBe(201);
    const before = app.hashing.stats.started.hash;
    expect((await register(app, ip, { email: 'not an email' })).statusCode).toBe(400);
    expect((await register(app, ip, { password: 'short' })).statusCode).toBe(400);
    const dup = await register(app, ip, { email: taken.toUpperCase() });
    expect(dup.statusCode).toBe(409);
    expect(JSON.parse(dup.payload).code).toBe('HF_USER_EXISTS');
    expect(app.hashing.stats.started.hash).toBe(before);
    // Rejected input was not counted either (the taken email was): one more fits, then 429.
    expect((await register(app, ip)).statusCode).toBe(201);
    expect((await register(app, ip)).statusCode).toBe(429);
    expect(app.hashing.stats.started.hash).toBe(before + 1);
  });
});

describe('password hashing is bounded per process', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      settings: testSettings({ password: { maxConcurrentHashes: 2, maxQueuedHashes: 2 } }),
    });
  });
  afterAll(() => app.server.stop());

  test('a full queue answers 503 HF_BUSY with Retry-After (never 401); logins pass queued registrations', async () => {
    const user = email('login');
    expect((await register(app, '198.51.100.40', { email: user })).statusCode).toBe(201);
    const q = app.hashing;
    // A flood in progress: registrations hold every slot they may take and fill their lane.
    const hashing = gate();
    const running = q.run('hash', () => hashing.done);
    const registrationsStarted: number[] = [];
    const queued = [0, 1].map(() =>
      q.run('hash', async () => void registrationsStarted.push(q.stats.started.verify)),
    );
    await until(() => q.queued('hash') === 2);

    const refused = email('refused');
    const busy = await register(app, '198.51.100.41', { email: refused });
    expect(busy.statusCode).toBe(503);
    expect(JSON.parse(busy.payload).code).toBe('HF_BUSY');
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await app.users.findByEmail(refused)).toBeNull();
    const page = await app.server.inject({
      method: 'POST',
      url: '/register',
      payload: `email=${encodeURIComponent(email('page'))}&password=correct+horse+battery`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      remoteAddress: '198.51.100.42',
    });
    expect(page.statusCode).toBe(503);
    expect(page.headers['retry-after']).toBeDefined();

    const login = () =>
      call(
        app.server,
        null,
        'POST',
        '/auth/login',
        { email: user, password: PASSWORD },
        { 'x-test-ip': '198.51.100.43' },
      );
    // The slot registrations may not take is free: a login runs at once.
    expect((await login()).statusCode).toBe(200);
    // Every slot busy: a login waits, and the first free slot is its, not a registration's.
    const verifying = gate();
    const other = q.run('verify', () => verifying.done);
    const waiting = login();
    await until(() => q.queued('verify') === 1);
    verifying.open();
    expect((await waiting).statusCode).toBe(200);
    expect(registrationsStarted).toEqual([]);
    hashing.open();
    await Promise.all([running, other, ...queued]);
    expect(registrationsStarted).toHaveLength(2);
  });

  test('a login refused as busy is not counted by the login throttle', async () => {
    const user = email('busy-login');
    expect((await register(app, '198.51.100.50', { email: user })).statusCode).toBe(201);
    const q = app.hashing;
    const slots = [gate(), gate()];
    const running = slots.map((g) => q.run('verify', () => g.done));
    const queued = [0, 1].map(() => q.run('verify', async () => undefined));
    await until(() => q.queued('verify') === 2);
    const limit = app.settings.throttle.accountFailures;
    for (let i = 0; i < limit + 2; i++) {
      const r = await call(
        app.server,
        null,
        'POST',
        '/auth/login',
        { email: user, password: PASSWORD },
        { 'x-test-ip': '198.51.100.51' },
      );
      expect(r.statusCode).toBe(503);
      expect(JSON.parse(r.payload).code).toBe('HF_BUSY');
    }
    for (const g of slots) g.open();
    await Promise.all([...running, ...queued]);
    const ok = await call(
      app.server,
      null,
      'POST',
      '/auth/login',
      { email: user, password: PASSWORD },
      { 'x-test-ip': '198.51.100.51' },
    );
    expect(ok.statusCode).toBe(200);
  });
});

describe('client address behind trusted proxies (http.trustedProxies)', () => {
  let app: TestApp;
  let shared: TestApp;
  beforeAll(async () => {
    app = await buildTestApp({
      settings: testSettings({ http: { trustedProxies: ['10.0.0.0/8', '192.168.0.0/16'] } }),
    });
    shared = await buildTestApp();
  });
  afterAll(async () => {
    await app.server.stop();
    await shared.server.stop();
  });

  /** A request through the load balancer at 10.0.0.5 on behalf of `forwardedFor`. */
  const viaProxy = (
    target: TestApp,
    url: string,
    body: object,
    forwardedFor: string,
    jar: Jar | null = null,
  ) =>
    call(target.server, jar, 'POST', url, body, {
      'x-test-ip': '10.0.0.5',
      'x-forwarded-for': forwardedFor,
    });

  async function failManyThenLogIn(target: TestApp) {
    const victim = email('victim');
    expect(
      (
        await viaProxy(
          target,
          '/auth/register',
          { email: victim, password: PASSWORD },
          '198.51.100.9',
        )
      ).statusCode,
    ).toBe(201);
    // One client guesses against many accounts: past addressFailures its address is throttled.
    const n = target.settings.throttle.addressFailures + 5;
    let throttled = 0;
    for (let i = 0; i < n; i++) {
      const r = await viaProxy(
        target,
        '/auth/login',
        { email: email('guess'), password: 'wrong password!' },
        '203.0.113.7',
      );
      if (r.statusCode === 429) throttled++;
    }
    expect(throttled).toBeGreaterThan(0);
    const jar = new Jar();
    const r = await viaProxy(
      target,
      '/auth/login',
      { email: victim, password: PASSWORD },
      '198.51.100.9',
      jar,
    );
    return { status: r.statusCode, jar };
  }

  test("50 failures from one client behind a trusted proxy do not throttle another client's correct password", async () => {
    const { status, jar } = await failManyThenLogIn(app);
    expect(status).toBe(200);
    const list = JSON.parse((await call(app.server, jar, 'GET', '/auth/sessions')).payload);
    expect(list.sessions.find((s: { current: boolean }) => s.current).ip).toBe('198.51.100.9');
  });

  test('(what trustedProxies fixes) without it, every client behind the proxy shares its address', async () => {
    expect((await failManyThenLogIn(shared)).status).toBe(429);
  });

  test('a spoofed X-Forwarded-For from an untrusted peer is ignored; a chain of two trusted proxies is followed', async () => {
    const spoofed = new Jar();
    await call(
      app.server,
      spoofed,
      'POST',
      '/auth/register',
      { email: email('direct'), password: PASSWORD },
      { 'x-test-ip': '203.0.113.50', 'x-forwarded-for': '10.0.0.9, 198.51.100.1' },
    );
    const chained = new Jar();
    await viaProxy(
      app,
      '/auth/register',
      { email: email('chained'), password: PASSWORD },
      '6.6.6.6, 2001:db8::77, 192.168.7.7',
      chained,
    );
    for (const [jar, ip] of [
      [spoofed, '203.0.113.50'],
      [chained, '2001:db8::77'],
    ] as const) {
      const list = JSON.parse((await call(app.server, jar, 'GET', '/auth/sessions')).payload);
      expect(list.sessions[0].ip).toBe(ip);
    }
  });
});

describe('password change page', () => {
  test('wrong current passwords are throttled there too: 429 with Retry-After', async () => {
    const app = await buildTestApp();
    try {
      const jar = new Jar();
      expect(
        (
          await call(app.server, jar, 'POST', '/auth/register', {
            email: email('page'),
            password: PASSWORD,
          })
        ).statusCode,
      ).toBe(201);
      const page = await call(app.server, jar, 'GET', '/account');
      const crumb = /name='crumb' value='([^']+)'/.exec(page.payload)?.[1] as string;
      const post = (current: string) =>
        app.server.inject({
          method: 'POST',
          url: '/account/password',
          payload: `crumb=${encodeURIComponent(crumb)}&currentPassword=${encodeURIComponent(current)}&newPassword=a+new+password%21`,
          headers: {
            cookie: jar.header() as string,
            'content-type': 'application/x-www-form-urlencoded',
          },
          remoteAddress: '198.51.100.60',
        });
      for (let i = 0; i < app.settings.throttle.accountFailures; i++)
        expect((await post('wrong password!')).statusCode).toBe(403);
      const r = await post(PASSWORD);
      expect(r.statusCode).toBe(429);
      expect(Number(r.headers['retry-after'])).toBe(
        Math.ceil(app.settings.throttle.baseDelay / 1000),
      );
      expect(r.payload).toMatch(/too many failed logins/);
    } finally {
      await app.server.stop();
    }
  });
});
