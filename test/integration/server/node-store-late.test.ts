/**
 * One serving process (startNode, as a worker runs it) whose Redis is not there yet (ADR 170):
 * it listens at once, live 200, ready 503 with the reason, 503 where the store is needed; Redis
 * started late by the harness on the configured port: ready by itself, sessions work. And a
 * storeGate (the primary's preflight still pending) keeps it off the store even when Redis answers.
 * A Redis that answers slowly: the node listens only once its store is in use (ADR 271).
 */
import net from 'node:net';
import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';
import { freePort, RedisProcess, startRedis } from '../../harness';

jest.setTimeout(60_000);

let redis: RedisProcess | undefined;
let node: RunningNode | undefined;
let relay: { close(): Promise<void> } | undefined;

afterEach(async () => {
  await node?.shutdown('test over');
  await relay?.close();
  await redis?.destroy();
  node = undefined;
  relay = undefined;
  redis = undefined;
});

async function settingsFor(redisPort: number, env: NodeJS.ProcessEnv = {}) {
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
      ...env,
    },
  });
}

/**
 * A TCP relay on loopback to a real Redis that holds each new connection `holdMs` before passing
 * bytes either way: a slow network, so connecting the store takes at least that long.
 */
async function slowRelay(redisPort: number, holdMs: number) {
  const sockets = new Set<net.Socket>();
  const track = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server = net.createServer((client) => {
    track(client);
    client.pause();
    setTimeout(() => {
      if (client.destroyed) return;
      const upstream = net.connect(redisPort, '127.0.0.1');
      track(upstream);
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
      client.resume();
    }, holdMs);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
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

test('Redis answers slowly: the node listens only once its store is in use, never answering 503 before', async () => {
  redis = await startRedis();
  const slow = await slowRelay(redis.port, 500);
  relay = slow;
  const httpPort = await freePort();
  // A load balancer's probe from the moment the node is started: refused, then ready, nothing between.
  const answers: number[] = [];
  let probing = true;
  const probe = (async () => {
    while (probing) {
      const r = await fetch(`http://127.0.0.1:${httpPort}/health/ready`).catch(() => undefined);
      if (r) answers.push(r.status);
      await new Promise((res) => setTimeout(res, 10));
    }
  })();
  const starting = startNode(
    await settingsFor(slow.port, {
      HOLDFAST_HTTP__PORT: String(httpPort),
      HOLDFAST_STORE__REDIS__CONNECT_TIMEOUT: '5s',
      HOLDFAST_STORE__REDIS__COMMAND_TIMEOUT: '5s',
    }),
    { logger: createLogger('silent'), healthIntervalMs: 200 },
  );
  node = await starting;
  await until('three answers', async () => (answers.length >= 3 ? true : undefined));
  probing = false;
  await probe;
  expect(answers.length).toBeGreaterThanOrEqual(3);
  expect(answers.filter((status) => status !== 200)).toEqual([]);
});
