/**
 * 100 parallel requests on one session (issue 12, item 1) on a real Redis: while it renews, while
 * its remember-me token rotates, and while it is revoked. No spurious 401 before the revocation,
 * none accepted after it: "after" means started once the revocation had answered.
 */
import { performance } from 'node:perf_hooks';
import { cookieNames } from '../../../src/auth/cookies';
import { getProvider, RedisNode } from '../../harness';
import { buildRedisTestApp, RedisTestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

jest.setTimeout(120_000);

const PASSWORD = 'correct horse battery';
const PARALLEL = 100;
const RENEW_AFTER_MS = 60_000;
const IDLE_TTL_MS = 30 * 60_000;

let node: RedisNode;
let app: RedisTestApp;

beforeAll(async () => {
  node = await getProvider().standalone();
  const settings = testSettings({
    session: { renewAfter: `${RENEW_AFTER_MS}ms`, idleTtl: `${IDLE_TTL_MS}ms` },
    store: { type: 'redis', redis: { mode: 'standalone', nodes: [`${node.host}:${node.port}`] } },
  });
  app = await buildRedisTestApp(settings, { pages: false });
});

afterAll(async () => {
  await app?.stop();
  await node?.destroy();
});

let users = 0;
async function signedIn(remember = false): Promise<{ jar: Jar; userId: string }> {
  const email = `race.${Date.now()}.${users++}@example.com`;
  await call(app.server, null, 'POST', '/auth/register', { email, password: PASSWORD });
  const jar = new Jar();
  const r = await call(app.server, jar, 'POST', '/auth/login', {
    email,
    password: PASSWORD,
    remember,
  });
  expect(r.statusCode).toBe(200);
  return { jar, userId: JSON.parse(r.payload).user.id as string };
}

interface Timed {
  readonly status: number;
  readonly started: number;
  readonly ended: number;
  readonly res: Awaited<ReturnType<typeof call>>;
}

/** One request from a copy of `jar` (parallel requests of one browser send the same cookies). */
async function timed(jar: Jar, url = '/auth/me'): Promise<Timed> {
  const started = performance.now();
  const res = await call(app.server, jar.clone(), 'GET', url);
  return { status: res.statusCode, started, ended: performance.now(), res };
}

function statuses(results: readonly Timed[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of results) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

test('100 parallel requests while the session renews: every one 200, the session lives on', async () => {
  const { jar } = await signedIn();
  const renewals = app.sessions.stats.renewals;
  app.clock.now += RENEW_AFTER_MS + 1000; // every request finds a renewal due
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => timed(jar)));
  expect(statuses(results)).toEqual({ 200: PARALLEL });
  // No answer clears the cookie; at least one renewal was written.
  for (const r of results) expect(r.res.headers['set-cookie']).toBeUndefined();
  await app.sessions.settled(); // renewals are sent after the answer (ADR 205)
  expect(app.sessions.stats.renewals).toBeGreaterThan(renewals);
  // Renewed for real: past the old idle deadline, the session still answers.
  app.clock.now += IDLE_TTL_MS - RENEW_AFTER_MS;
  expect((await timed(jar)).status).toBe(200);
});

test('100 parallel requests while the remember-me token rotates: every one 200, one rotation, the browser stays signed in', async () => {
  const { jar, userId } = await signedIn(true);
  expect(jar.cookies.size).toBe(2);
  // The session cookie's session is past its idle deadline: each request signs in again by the
  // remember-me cookie, the first rotates its token, the others fall in the grace window.
  app.clock.now += IDLE_TTL_MS + 1000;
  // The same user on another device, signed in just before the burst.
  const phone = new Jar();
  const email = (await app.users.findById(userId))!.email;
  await call(app.server, phone, 'POST', '/auth/login', { email, password: PASSWORD });
  const results = await Promise.all(Array.from({ length: PARALLEL }, () => timed(jar)));
  expect(statuses(results)).toEqual({ 200: PARALLEL });
  // Exactly one answer carries a new remember-me token (the rotation); every one a new session.
  const { remember, session } = cookieNames(app.settings.cookie);
  const sets = (r: Timed, name: string) =>
    [r.res.headers['set-cookie'] ?? []].flat().some((c) => String(c).startsWith(`${name}=`));
  expect(results.filter((r) => sets(r, remember))).toHaveLength(1);
  expect(results.filter((r) => sets(r, session))).toHaveLength(PARALLEL);
  // The browser keeps the cookies of the answers in the order they arrived.
  const browser = jar.clone();
  for (const r of [...results].sort((a, b) => a.ended - b.ended)) browser.take(r.res);
  // (call, not timed: the browser keeps what this answer sets, as a browser does)
  expect((await call(app.server, browser, 'GET', '/auth/me')).statusCode).toBe(200);
  // The burst made one session per request (past session.maxPerUser): it must not have ended
  // the other device's session, nor the remember-me series the browser still holds.
  expect((await timed(phone)).status).toBe(200);
  // Once the browser's session has expired, its remember-me cookie signs it in again.
  app.clock.now += IDLE_TTL_MS + 1000;
  const again = await call(app.server, browser, 'GET', '/auth/me');
  expect(again.statusCode).toBe(200);
  expect(JSON.parse(again.payload).session.method).toBe('remember');
});

test('100 parallel requests while the session is revoked: 200 before, 401 for every request started after the revocation answered', async () => {
  const { jar, userId } = await signedIn(true);
  const sessionId = JSON.parse((await call(app.server, jar, 'GET', '/auth/me')).payload).session
    .id as string;
  // Renewals due too, so renewal writes race the revocation (they must not bring it back).
  app.clock.now += RENEW_AFTER_MS + 1000;
  const third = Math.floor(PARALLEL / 3);
  // Before: answered before the revocation starts, every one 200 (renewing as they go).
  const before = await Promise.all(Array.from({ length: third }, () => timed(jar)));
  expect(statuses(before)).toEqual({ 200: third });
  // During: sent together with the revocation; either answer is right for them.
  const during = Array.from({ length: third }, () => timed(jar));
  expect(await app.sessions.revoke(userId, sessionId, 'logout')).toBe(true);
  const revoked = performance.now();
  // After: started once the revocation answered, every one 401 (the remember-me cookie too is
  // sent, and must not sign anyone in: its series ended with the session).
  const after = await Promise.all(Array.from({ length: PARALLEL - 2 * third }, () => timed(jar)));
  for (const r of after) expect(r.started).toBeGreaterThanOrEqual(revoked);
  expect(statuses(after)).toEqual({ 401: PARALLEL - 2 * third });
  const inFlight = await Promise.all(during);
  expect(inFlight.filter((r) => r.status !== 200 && r.status !== 401)).toEqual([]);
  // Nothing brought it back: not a renewal, not the remember-me series (it ended with it).
  expect(
    await app.engine.get(app.engine.keys.shardOf(userId), sessionId, app.clock.now),
  ).toBeNull();
  expect((await timed(jar)).status).toBe(401);
  // Only the session registration made is left: none revived, none made from the remember-me series.
  const left = await app.sessions.list(userId);
  expect(left.map((s) => [s.id === sessionId, s.method])).toEqual([[false, 'password']]);
});
