/**
 * Password reset on a Redis Cluster: the tokens, the throttle and the users on Redis, the mail on
 * a real SMTP server. The whole flow once, then single use, sign-in invalidation and the keys.
 */
import { Cluster } from 'ioredis';
import { getProvider, RedisClusterHandle } from '../../harness';
import { RedisEngine } from '../../../src/store';
import { linkIn, startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { testSettings } from '../../support/app';
import { seedList } from '../../support/seeds';
import { call, Jar } from '../../support/inject';
import { buildResetApp, ResetApp, SAME_SITE } from '../../unit/plugin/reset-app';

jest.setTimeout(120_000);

let cluster: RedisClusterHandle;
let engine: RedisEngine;
let smtp: TestSmtpServer;
let app: ResetApp;

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
  const store = {
    type: 'redis',
    redis: {
      mode: 'cluster',
      nodes: seedList(cluster),
      keyPrefix: 'hfr',
    },
  };
  engine = new RedisEngine(testSettings({ store }).store.redis);
  await engine.start();
  smtp = await startSmtpServer();
  app = await buildResetApp(smtp, { store, engine });
});

afterAll(async () => {
  await app?.server.stop();
  await app?.services.mailer?.close();
  await smtp?.stop();
  await engine?.stop();
  await cluster?.stop();
});

const PASSWORD = 'correct horse battery';
const NEW = 'violet harbor lantern';

test('reset on Redis: mail, new password, every session ended, single use; a sign-in ends an outstanding link; only hashes at rest', async () => {
  const email = `cluster.reset.${Date.now()}@example.com`;
  const reg = await call(
    app.server,
    new Jar(),
    'POST',
    '/auth/register',
    { email, password: PASSWORD },
    SAME_SITE,
  );
  expect(reg.statusCode).toBe(201);
  expect((await smtp.nextTo(email)).kind).toBe('verify');
  const jar = new Jar();
  expect(
    (await call(app.server, jar, 'POST', '/auth/login', { email, password: PASSWORD }, SAME_SITE))
      .statusCode,
  ).toBe(200);

  const ask = () => call(app.server, null, 'POST', '/auth/password-reset', { email }, SAME_SITE);
  expect((await ask()).statusCode).toBe(202);
  const first = String(
    linkIn(await smtp.nextTo(email), '/reset-password').searchParams.get('token'),
  );
  // A sign-in ends it.
  expect(
    (
      await call(
        app.server,
        new Jar(),
        'POST',
        '/auth/login',
        { email, password: PASSWORD },
        SAME_SITE,
      )
    ).statusCode,
  ).toBe(200);
  await app.services.passwordReset?.idle();
  const stale = await call(
    app.server,
    null,
    'POST',
    '/auth/password-reset/confirm',
    { token: first, password: NEW },
    SAME_SITE,
  );
  expect(JSON.parse(stale.payload).code).toBe('HF_ACCOUNT_TOKEN_INVALID');

  expect((await ask()).statusCode).toBe(202);
  const token = String(
    linkIn(await smtp.nextTo(email), '/reset-password').searchParams.get('token'),
  );
  // At rest: the record holds SHA-256 of the secret, never the secret.
  const client = new Cluster(cluster.seeds);
  await new Promise((resolve) => client.once('ready', resolve));
  try {
    const keys = (await Promise.all(client.nodes('master').map((n) => n.keys('{hfr:k*')))).flat();
    const values = await Promise.all(keys.map((k) => client.get(k)));
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(`${keys.join(' ')} ${values.join(' ')}`).not.toContain(token.split('.')[1]);
  } finally {
    await client.quit();
  }
  const done = await call(
    app.server,
    null,
    'POST',
    '/auth/password-reset/confirm',
    { token, password: NEW },
    SAME_SITE,
  );
  expect(done.statusCode).toBe(200);
  expect(JSON.parse(done.payload).revokedSessions).toBe(3);
  expect((await call(app.server, jar, 'GET', '/auth/me')).statusCode).toBe(401);
  const again = await call(
    app.server,
    null,
    'POST',
    '/auth/password-reset/confirm',
    { token, password: 'one more passphrase' },
    SAME_SITE,
  );
  expect(JSON.parse(again.payload).code).toBe('HF_ACCOUNT_TOKEN_INVALID');
  const login = (password: string) =>
    call(app.server, null, 'POST', '/auth/login', { email, password }, SAME_SITE);
  expect((await login(PASSWORD)).statusCode).toBe(401);
  expect((await login(NEW)).statusCode).toBe(200);
  expect((await smtp.nextTo(email)).kind).toBe('password-reset');
});
