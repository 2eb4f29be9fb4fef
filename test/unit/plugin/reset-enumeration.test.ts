/**
 * Enumeration (ASVS 6.4.3, ADR 141): reset requests for addresses that have an account and for
 * addresses that do not answer with the same status and body, and take the same time. Times are
 * many interleaved samples of each, in a shuffled order, compared with a Mann-Whitney U test
 * (test/support/statistics.ts): the test fails when the two distributions differ (p < 0.001),
 * not when one request is slower than some fixed number. The mail really goes out (real SMTP
 * server); each sample waits for the previous request's mail to be handed over, so the background
 * work of one sample never lands in the next one's time.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startSmtpServer, TestSmtpServer } from '../../support/smtp-server';
import { mannWhitney, median } from '../../support/statistics';
import { call } from '../../support/inject';
import { buildResetApp, ResetApp, SAME_SITE } from './reset-app';

jest.setTimeout(120_000);

const SAMPLES = 300;
const WARMUP = 40;

let smtp: TestSmtpServer;
let app: ResetApp;
beforeAll(async () => {
  smtp = await startSmtpServer();
  app = await buildResetApp(smtp);
});
afterAll(async () => {
  await app?.server.stop();
  await app?.services.mailer?.close();
  await smtp?.stop();
});

function shuffled<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}

test('known and unknown addresses: same status and body, times not distinguishable', async () => {
  const tag = `${process.pid}.${Date.now()}`;
  const known = Array.from({ length: 5 }, (_, i) => `known.${tag}.${i}@example.com`);
  const unknown = Array.from({ length: 5 }, (_, i) => `unknown.${tag}.${i}@example.com`);
  for (const email of known) {
    const r = await call(
      app.server,
      null,
      'POST',
      '/auth/register',
      { email, password: 'correct horse battery' },
      SAME_SITE,
    );
    expect(r.statusCode).toBe(201);
  }
  const ask = async (email: string) => {
    const started = process.hrtime.bigint();
    const r = await call(app.server, null, 'POST', '/auth/password-reset', { email }, SAME_SITE);
    const ns = Number(process.hrtime.bigint() - started);
    await app.services.passwordReset?.idle();
    return { status: r.statusCode, body: r.payload, us: ns / 1000 };
  };
  for (let i = 0; i < WARMUP; i++) await ask(i % 2 ? known[i % 5] : unknown[i % 5]);

  const order = shuffled([
    ...Array.from({ length: SAMPLES }, (_, i) => ({ known: true, email: known[i % 5] })),
    ...Array.from({ length: SAMPLES }, (_, i) => ({ known: false, email: unknown[i % 5] })),
  ]);
  const times = { known: [] as number[], unknown: [] as number[] };
  const answers = new Set<string>();
  for (const s of order) {
    const r = await ask(s.email);
    answers.add(`${r.status} ${r.body}`);
    (s.known ? times.known : times.unknown).push(r.us);
  }
  // One answer for all 600 requests.
  expect([...answers]).toEqual([
    `202 ${JSON.stringify({ message: 'If an account has this address, a message with a link to choose a new password is on its way. The link works once, for a limited time.' })}`,
  ]);
  // The known addresses really got their mail (the work differs, after the answer).
  expect(smtp.received.filter((m) => known.includes(m.to[0])).length).toBeGreaterThanOrEqual(
    SAMPLES,
  );

  const test = mannWhitney(times.known, times.unknown);
  const summary = {
    samples: SAMPLES,
    medianKnownUs: Math.round(median(times.known)),
    medianUnknownUs: Math.round(median(times.unknown)),
    z: Number(test.z.toFixed(2)),
    p: Number(test.p.toFixed(4)),
  };
  const dir = join(__dirname, '../../../test-artifacts');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'reset-enumeration.json'), `${JSON.stringify(summary, null, 2)}\n`);
  expect({ ...summary, distinguishable: test.p < 0.001 }).toEqual({
    ...summary,
    distinguishable: false,
  });
});
