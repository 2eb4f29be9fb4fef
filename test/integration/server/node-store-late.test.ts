/**
 * One serving process (startNode, as a worker runs it) whose Redis is not there yet (ADR 170):
 * it listens at once, live 200, ready 503 with the reason, 503 where the store is needed; Redis
 * started late by the harness on the configured port: ready by itself, sessions work. And a
 * storeGate (the primary's preflight still pending) keeps it off the store even when Redis answers.
 */
import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';
import { freePort, RedisProcess, startRedis } from '../../harness';

jest.setTimeout(60_000);

let redis: RedisProcess | undefined;
let node: RunningNode | undefined;

afterEach(async () => {
  await node?.shutdown('test over');
  await redis?.destroy();
  node = undefined;
  redis = undefined;
});

async function settingsFor(redisPort: number) {
  return loadSettings({
    env: {
      NODE_ENV: 'test',
      HOLDFAST_HTTP__HOST: '127.0.0.1',
      HOLDFAST_HTTP__PORT: '0',
      HOLDFAST_STORE__TYPE: 'redis',
      HOLDFAST_STORE__REDIS__MODE: 'standalone',
      HOLDFAST_STORE__REDIS__NODES: `127.0.0.1:${redisPort}`,
      HOLDFAST_STORE__REDIS__SHARDS: '16',
      HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '300ms',
      HOLDFAST_STORE__REDIS__COMMAND_TIMEOUT: '300ms',
      HOLDFAST_SHUTDOWN__DRAIN_DELAY: '0s',
      HOLDFAST_SHUTDOWN__TIMEOUT: '2s',
    },
  });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('Redis down: listens at once, not ready with the reason, 503; Redis started late: ready by itself', async () => {
  const redisPort = await freePort();
  node = await startNode(await settingsFor(redisPort), {
    logger: createLogger('silent'),
    healthIntervalMs: 200,
  });
  const base = node.server.info.uri;
  expect((await fetch(`${base}/health/live`)).status).toBe(200);
  const ready = await fetch(`${base}/health/ready`);
  expect(ready.status).toBe(503);
  const state = (await ready.json()) as { reasons: string[]; listening: boolean };
  expect(state.listening).toBe(true);
  expect(state.reasons).toEqual([
    expect.stringMatching(
      /^store not connected yet: session store unavailable during connect \(store.redis.mode standalone, nodes 127.0.0.1:\d+\)/,
    ),
  ]);
  const reg = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'late.node@example.com', password: 'correct horse battery' }),
  });
  expect(reg.status).toBe(503);
  expect(((await reg.json()) as { code: string }).code).toBe('HF_STORE_UNAVAILABLE');

  redis = await startRedis({ port: redisPort });
  await until('ready', async () =>
    (await fetch(`${base}/health/ready`)).status === 200 ? true : undefined,
  );
  await node.connected;
  const again = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'late.node@example.com', password: 'correct horse battery' }),
  });
  expect(again.status).toBe(201);
});

test('storeGate pending: the store is not touched even though Redis answers; released: ready', async () => {
  redis = await startRedis();
  let release!: () => void;
  const storeGate = new Promise<void>((resolve) => (release = resolve));
  node = await startNode(await settingsFor(redis.port), {
    logger: createLogger('silent'),
    healthIntervalMs: 200,
    storeGate,
  });
  const base = node.server.info.uri;
  await new Promise((r) => setTimeout(r, 600));
  const ready = await fetch(`${base}/health/ready`);
  expect(ready.status).toBe(503);
  expect(((await ready.json()) as { reasons: string[] }).reasons).toEqual([
    'preflight not passed yet: the store was unreachable at start',
  ]);
  // No connection named holdfast-* was opened: CLIENT LIST shows only the harness's own.
  expect(await redis.command(['CLIENT', 'LIST'])).not.toMatch(/name=holdfast/);
  release();
  await until('ready', async () =>
    (await fetch(`${base}/health/ready`)).status === 200 ? true : undefined,
  );
  expect(await redis.command(['CLIENT', 'LIST'])).toMatch(/name=holdfast-reads/);
});
