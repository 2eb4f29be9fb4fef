/**
 * The composition root's wiring of session events: a bug in a background renewal (ADR 205) is
 * logged at error with the session id, and the log line holds no token.
 */
import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { createServices } from '../../../src/server/services';
import type { SessionEngine } from '../../../src/store/engine';
import { MemoryEngine } from '../../../src/store';

test('a renewal that fails with a bug is logged, without the token', async () => {
  const settings = loadSettings({ env: { NODE_ENV: 'test' } });
  const clock = { now: 1_700_000_000_000 };
  const engine = new MemoryEngine(settings.store.redis.shards, () => clock.now);
  const lines: string[] = [];
  const logger = createLogger('info', { write: (l: string) => lines.push(l) });
  const { sessions } = createServices(settings, { engine, logger, clock: () => clock.now });
  const client = { ip: '203.0.113.7', userAgent: 'Firefox 130 on Linux' };
  const { token, session } = await sessions.create('user-1', client, 'password');
  clock.now += settings.session.renewAfter + 1;
  jest.spyOn(engine as SessionEngine, 'touch').mockRejectedValueOnce(new TypeError('a bug'));
  expect((await sessions.authenticate(token)).result).toBe('ok');
  await sessions.settled();
  const logged = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(logged.filter((l) => l.msg === 'session renewal failed')).toMatchObject([
    { level: 50, sessionId: session.id, err: { type: 'TypeError', message: 'a bug' } },
  ]);
  expect(lines.join('\n')).not.toContain(token.split('.')[2]);
});
