/**
 * The peer stacks `make bench` measures (bench/peer-server.js) on a real Redis Cluster: each
 * signs a user in, answers that user's `{"id"}` on GET /me for its cookie, refuses a request
 * without one (bare excepted), and keeps its session in Redis where it should. A stack that
 * checked nothing would make the comparison void.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  signIn,
  startStack,
  stopStack,
  waitForListening,
  type Stack,
} from '../../../bench/lib/stacks';
import { freePort, getProvider, type RedisClusterHandle } from '../../harness';

jest.setTimeout(120_000);

let cluster: RedisClusterHandle;
let dir: string;
const stacks: Stack[] = [];

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 0 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-peer-stacks-'));
});

afterAll(async () => {
  await Promise.all(stacks.map(stopStack));
  await cluster?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function start(name: string): Promise<Stack> {
  const port = await freePort();
  const stack = startStack(
    name,
    ['bench/peer-server.js'],
    {
      BENCH_STACK: name,
      BENCH_PORT: String(port),
      BENCH_REDIS_MODE: 'cluster',
      BENCH_REDIS_NODES: cluster.seeds.map((n) => `${n.host}:${n.port}`).join(','),
    },
    port,
    dir,
  );
  stacks.push(stack);
  await waitForListening(stack);
  return stack;
}

async function me(stack: Stack, cookie?: string): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${stack.port}/me`, {
    headers: cookie ? { cookie } : {},
  });
  return { status: res.status, body: await res.text() };
}

/** Keys under a prefix on every master (the cluster is tiny: KEYS is fine here). */
async function keys(pattern: string): Promise<string[]> {
  const masters = await cluster.masters();
  const replies = await Promise.all(masters.map((m) => m.node!.command(['KEYS', pattern])));
  return replies.flatMap((r) => r as string[]);
}

test('bare answers the same small JSON with no session', async () => {
  const bare = await start('bare');
  expect(await me(bare)).toEqual({ status: 200, body: '{"id":"reader"}' });
});

test.each([
  ['hapi-cookie', null],
  ['catbox-redis', 'bench:sessions*'],
  ['catbox-redis-keepalive', 'bench:sessions*'],
  ['connect-redis', 'bench:sess:*'],
  ['connect-redis-rolling', 'bench:sess:*'],
])('%s: the signed-in user on /me, 401 without the cookie', async (name, pattern) => {
  const stack = await start(name);
  const before = pattern ? (await keys(pattern)).length : 0;
  const cookie = await signIn(stack, '/bench/login', { user: `user-of-${name}` });
  expect(await me(stack, cookie)).toEqual({ status: 200, body: `{"id":"user-of-${name}"}` });
  expect((await me(stack)).status).toBe(401);
  // A second user gets a session of their own.
  const other = await signIn(stack, '/bench/login', { user: 'someone-else' });
  expect(other).not.toBe(cookie);
  expect(await me(stack, other)).toEqual({ status: 200, body: '{"id":"someone-else"}' });
  // The Redis-backed stacks keep one key per session in the cluster.
  if (pattern) expect((await keys(pattern)).length).toBe(before + 2);
});
