import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { getProvider, RedisClusterHandle } from '../../harness';
import { seedList } from '../../support/seeds';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '..', '..', '..');
let cluster: RedisClusterHandle;
const nodes: Array<{ proc: ChildProcess; base: string }> = [];

function startNode(seeds: string): Promise<{ proc: ChildProcess; base: string }> {
  const proc = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', join(__dirname, 'fixtures', 'holdfast-node.ts')],
    {
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'test',
        HOLDFAST_STORE__TYPE: 'redis',
        HOLDFAST_STORE__REDIS__MODE: 'cluster',
        HOLDFAST_STORE__REDIS__NODES: seeds,
        TS_NODE_PROJECT: join(ROOT, 'tsconfig.json'),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    proc.stdout?.on('data', (d) => {
      out += String(d);
      const m = /\{"port":(\d+)\}/.exec(out);
      if (m) resolve({ proc, base: `http://127.0.0.1:${m[1]}` });
    });
    proc.stderr?.on('data', (d) => (err += String(d)));
    proc.on('exit', (code) => reject(new Error(`holdfast node exited ${code}: ${err}`)));
  });
}

class Client {
  cookies = new Map<string, string>();
  async send(
    base: string,
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; json: unknown }> {
    const headers: Record<string, string> = {};
    if (this.cookies.size)
      headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(base + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      const v = pair.slice(i + 1);
      if (v) this.cookies.set(pair.slice(0, i), v);
      else this.cookies.delete(pair.slice(0, i));
    }
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : null };
  }
}

beforeAll(async () => {
  cluster = await getProvider().cluster({ masters: 3, replicasPerMaster: 1 });
  const seeds = seedList(cluster).join(',');
  nodes.push(...(await Promise.all([startNode(seeds), startNode(seeds)])));
});

afterAll(async () => {
  for (const n of nodes) {
    n.proc.kill('SIGTERM');
    await new Promise((r) => n.proc.once('exit', r));
  }
  await cluster?.stop();
});

test('log in on one node, use the session on the other; log out on one, rejected on the other at once', async () => {
  const [a, b] = nodes;
  const email = `two.${Date.now()}@example.com`;
  const c = new Client();
  expect(
    (await c.send(a.base, 'POST', '/auth/register', { email, password: 'correct horse battery' }))
      .status,
  ).toBe(201);
  expect((await c.send(b.base, 'GET', '/auth/me')).status).toBe(200);
  const copy = new Client();
  copy.cookies = new Map(c.cookies);
  expect((await c.send(b.base, 'POST', '/auth/logout')).status).toBe(204);
  expect((await copy.send(a.base, 'GET', '/auth/me')).status).toBe(401);
  expect((await copy.send(b.base, 'GET', '/auth/me')).status).toBe(401);
});

test('revoke all others from one device: the others are rejected on every node', async () => {
  const [a, b] = nodes;
  const email = `others.${Date.now()}@example.com`;
  const me = new Client();
  await me.send(a.base, 'POST', '/auth/register', { email, password: 'correct horse battery' });
  const others = [new Client(), new Client(), new Client()];
  for (const [i, o] of others.entries()) {
    expect(
      (
        await o.send(i % 2 ? a.base : b.base, 'POST', '/auth/login', {
          email,
          password: 'correct horse battery',
        })
      ).status,
    ).toBe(200);
  }
  const list = await me.send(b.base, 'GET', '/auth/sessions');
  expect((list.json as { sessions: unknown[] }).sessions).toHaveLength(4);
  const r = await me.send(b.base, 'DELETE', '/auth/sessions');
  expect(r.json).toEqual({ revoked: 3 });
  for (const o of others) {
    expect((await o.send(a.base, 'GET', '/auth/me')).status).toBe(401);
    expect((await o.send(b.base, 'GET', '/auth/me')).status).toBe(401);
  }
  expect((await me.send(a.base, 'GET', '/auth/me')).status).toBe(200);
});

test('login throttling is shared by both nodes (counted in Redis)', async () => {
  const [a, b] = nodes;
  const email = `throttle.${Date.now()}@example.com`;
  const c = new Client();
  await c.send(a.base, 'POST', '/auth/register', { email, password: 'correct horse battery' });
  for (let i = 0; i < 5; i++) {
    expect(
      (
        await c.send(i % 2 ? a.base : b.base, 'POST', '/auth/login', {
          email,
          password: 'wrong password!',
        })
      ).status,
    ).toBe(401);
  }
  expect(
    (await c.send(a.base, 'POST', '/auth/login', { email, password: 'correct horse battery' }))
      .status,
  ).toBe(429);
  expect(
    (await c.send(b.base, 'POST', '/auth/login', { email, password: 'correct horse battery' }))
      .status,
  ).toBe(429);
});
