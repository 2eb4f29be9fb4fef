/**
 * `holdfast start` as a process: with no configuration at all it serves (development, memory
 * store); SIGTERM under a stream of requests loses none and exits 0.
 */
import http from 'node:http';
import net from 'node:net';
import { freePort } from '../../harness';
import {
  canary,
  childrenOf,
  cookiesOf,
  productionEnv,
  request,
  spawnPerTest,
  waitFor,
  waitReady,
  HoldfastProcess,
} from '../../support/process';
import { standaloneForFile } from '../../support/redis';

jest.setTimeout(120_000);

const redis = standaloneForFile();
const spawnHoldfast = spawnPerTest();

function start(env: NodeJS.ProcessEnv, name: string): HoldfastProcess {
  return spawnHoldfast(['start'], env, name);
}

test('with no configuration: development, memory store, one worker; /health/live and /health/ready 200', async () => {
  // Only the ports are chosen, so the test cannot collide with anything on 3000 / 9464.
  const port = await freePort();
  const node = start(
    { HOLDFAST_HTTP__PORT: String(port), HOLDFAST_METRICS__PORT: String(await freePort()) },
    'no-config',
  );
  await waitReady(port);
  const live = await request(port, '/health/live');
  expect(live.status).toBe(200);
  expect(JSON.parse(live.body).status).toBe('live');
  expect(childrenOf(node.pid)).toHaveLength(1);
  expect(node.stderrLines()[0]).toMatch(
    /^PASS settings +found valid: env development, store memory, 1 worker/,
  );
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);
});

test('SIGTERM during a stream of requests: readiness false at once, no request fails, exit 0', async () => {
  const env = await productionEnv(redis(), { HOLDFAST_SHUTDOWN__DRAIN_DELAY: '1500ms' });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  const node = start(env, 'sigterm');
  await waitReady(port, 200, 60_000, 6); // both workers ready, not just the one that answered
  const password = 'correct horse battery staple';
  canary(password);
  const reg = await request(port, '/auth/register', {
    method: 'POST',
    body: { email: `drain.${Date.now()}@example.com`, password },
  });
  expect({ status: reg.status, body: reg.body }).toMatchObject({ status: 201 });
  const cookie = cookiesOf(reg);

  // A load balancer's view: route to the node only while its readiness says so.
  let routable = true;
  let sigtermAt = 0;
  let notReadyAt = 0;
  const poller = (async () => {
    while (routable) {
      const r = await request(port, '/health/ready').catch(() => ({ status: 0 }));
      if (r.status !== 200 && sigtermAt) {
        routable = false;
        notReadyAt = Date.now();
      }
      await new Promise((res) => setTimeout(res, 20));
    }
  })();
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const results: Array<{ status: number; at: number } | { error: string; at: number }> = [];
  const client = async () => {
    while (routable) {
      try {
        const r = await request(port, '/auth/me', { cookie, agent });
        results.push({ status: r.status, at: Date.now() });
      } catch (err) {
        results.push({ error: (err as Error).message, at: Date.now() });
      }
    }
  };
  const clients = Promise.all([client(), client(), client(), client()]);
  await waitFor('some requests served', async () => (results.length > 50 ? true : undefined));

  // A slow upload in flight across the moment the server stops accepting: it must complete.
  sigtermAt = Date.now();
  node.child.kill('SIGTERM');
  const slow = slowLogin(port, 2000);

  await Promise.all([poller, clients]);
  agent.destroy();
  const exit = await node.exited;
  const slowReply = await slow;

  expect(results.filter((r) => 'error' in r)).toEqual([]);
  expect(results.filter((r) => 'status' in r && r.status !== 200)).toEqual([]);
  expect(results.filter((r) => r.at > sigtermAt).length).toBeGreaterThan(0);
  expect(slowReply).toMatch(/^HTTP\/1\.1 401 /);
  expect(notReadyAt).toBeGreaterThan(0);
  expect(exit.code).toBe(0);
  // The drain delay is a floor: the node kept serving at least that long after the signal.
  expect(exit.at - sigtermAt).toBeGreaterThanOrEqual(1500);
  expect(node.output()).toContain('"msg":"node stopped"');
});

/** POST /auth/login whose body arrives in two parts `gapMs` apart; resolves with the raw reply. */
function slowLogin(port: number, gapMs: number): Promise<string> {
  const body = JSON.stringify({ email: 'nobody@example.com', password: 'wrong password here' });
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.on('data', (d: Buffer) => (reply += d));
    socket.on('close', () => resolve(reply));
    socket.on('error', (e: Error) => resolve(`error: ${e.message}`));
    socket.once('connect', () => {
      socket.write(
        `POST /auth/login HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body.slice(0, 10)}`,
      );
      setTimeout(() => socket.write(body.slice(10)), gapMs);
    });
  });
}
