/**
 * The access log of `holdfast start` is written in the background (an asynchronous pino
 * destination) and still complete when the node stops: every request answered before SIGTERM
 * has its line, down to the last one, and the worker's last line ('stopped') is there too.
 */
import http from 'node:http';
import {
  productionEnv,
  request,
  spawnPerTest,
  waitReady,
  HoldfastProcess,
} from '../../support/process';
import { standaloneForFile } from '../../support/redis';

jest.setTimeout(120_000);

const redis = standaloneForFile();
const spawnHoldfast = spawnPerTest();

interface LogLine {
  readonly msg?: string;
  readonly path?: string;
  readonly status?: number;
  readonly worker?: number;
}

function jsonLines(p: HoldfastProcess): LogLine[] {
  return p
    .stdoutLines()
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as LogLine);
}

async function startNode(extra: NodeJS.ProcessEnv, name: string) {
  const env = await productionEnv(redis(), {
    HOLDFAST_WORKERS: '1',
    // No drain delay: the worker exits right after the last answer, with lines still buffered.
    HOLDFAST_SHUTDOWN__DRAIN_DELAY: '0s',
    ...extra,
  });
  const port = Number(env.HOLDFAST_HTTP__PORT);
  const node = spawnHoldfast(['start'], env, name);
  await waitReady(port);
  return { node, port };
}

/** `count` requests for /probe/<i>, 50 in flight over keep-alive connections; all answered 404. */
async function probe(port: number, count: number): Promise<void> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 50 });
  let next = 0;
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = next++; i < count; i = next++) {
        expect((await request(port, `/probe/${i}`, { agent })).status).toBe(404);
      }
    }),
  );
  agent.destroy();
}

test('SIGTERM right after a burst of requests: every access line is in the output, the last one included', async () => {
  const { node, port } = await startNode({}, 'access-flush');
  const count = 2000;
  await probe(port, count);
  // The last request, answered just before the signal.
  expect((await request(port, '/probe/last')).status).toBe(404);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);

  const lines = jsonLines(node);
  const paths = new Set(
    lines.filter((l) => l.msg === 'request' && l.path?.startsWith('/probe/')).map((l) => l.path),
  );
  expect(paths.size).toBe(count + 1);
  for (let i = 0; i < count; i++) expect(paths.has(`/probe/${i}`)).toBe(true);
  expect(paths.has('/probe/last')).toBe(true);
  // Written by the worker right before it exits.
  expect(lines.some((l) => l.msg === 'stopped' && l.worker === 1)).toBe(true);
});

test('log.access off: no line for answered requests, the node logs the rest as before', async () => {
  const { node, port } = await startNode({ HOLDFAST_LOG__ACCESS: 'off' }, 'access-off');
  await probe(port, 20);
  expect((await request(port, '/health/live')).status).toBe(200);
  node.child.kill('SIGTERM');
  expect((await node.exited).code).toBe(0);

  const lines = jsonLines(node);
  // waitReady's polls of /health/ready before the node is ready answer 503, and a 5xx is always
  // logged (at error): on a slow machine there are some. Every answered request is checked here.
  expect(lines.filter((l) => l.msg === 'request' && l.path !== '/health/ready')).toEqual([]);
  expect(lines.filter((l) => l.msg === 'request' && l.status !== 503)).toEqual([]);
  expect(lines.some((l) => l.msg === 'listening')).toBe(true);
  expect(lines.some((l) => l.msg === 'stopped' && l.worker === 1)).toBe(true);
});
