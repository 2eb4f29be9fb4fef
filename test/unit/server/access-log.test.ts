import { loadSettings } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';

/**
 * The access log of a serving node (buildServer), per log.access: a request gets a line or not,
 * and a 5xx always does. In-process on the memory store; the log lines are the node's real pino
 * output, read back as JSON.
 */

interface Started {
  readonly node: RunningNode;
  readonly lines: () => Array<Record<string, unknown>>;
}

const running: RunningNode[] = [];

afterEach(async () => {
  for (const node of running.splice(0)) await node.shutdown('test over');
});

async function startWith(access: string, level = 'info'): Promise<Started> {
  const settings = loadSettings({
    env: {
      HOLDFAST_ENV: 'test',
      HOLDFAST_HTTP__HOST: '127.0.0.1',
      HOLDFAST_HTTP__PORT: '0',
      HOLDFAST_SHUTDOWN__DRAIN_DELAY: '0s',
      HOLDFAST_LOG__ACCESS: access,
    },
  });
  const out: string[] = [];
  const logger = createLogger(level, { write: (s: string) => void out.push(s) });
  const node = await startNode(settings, { logger });
  running.push(node);
  // A route that fails, as a bug in a handler would: hapi answers 500.
  node.server.route({
    method: 'GET',
    path: '/test/fails',
    options: { auth: false },
    handler: () => {
      throw new Error('handler bug');
    },
  });
  return {
    node,
    lines: () =>
      out.map((s) => JSON.parse(s) as Record<string, unknown>).filter((l) => l.msg === 'request'),
  };
}

/**
 * A 200, a 401, a 404 (its query must not show) and a 500, in that order; then waits for their
 * 'response' events (hapi emits one once the answer is written, which may be after the client read it).
 */
async function requests(node: RunningNode): Promise<void> {
  let responded = 0;
  node.server.events.on('response', () => void responded++);
  const base = node.server.info.uri;
  for (const path of [
    '/health/live',
    '/auth/me',
    '/nowhere?token=query-not-logged',
    '/test/fails',
  ]) {
    await (await fetch(`${base}${path}`)).arrayBuffer();
  }
  while (responded < 4) await new Promise((resolve) => setTimeout(resolve, 10));
}

const summary = (lines: Array<Record<string, unknown>>) =>
  lines.map((l) => `${l.level} ${l.method} ${l.path} ${l.status}`);

test('log.access info: one line per request, the 500 at error, never the query', async () => {
  const { node, lines } = await startWith('info');
  await requests(node);
  expect(summary(lines())).toEqual([
    '30 get /health/live 200',
    '30 get /auth/me 401',
    '30 get /nowhere 404',
    '50 get /test/fails 500',
  ]);
  expect(JSON.stringify(lines())).not.toContain('query-not-logged');
  expect(lines()[0]).toEqual({
    level: 30,
    time: expect.any(Number),
    pid: process.pid,
    reqId: expect.any(String),
    method: 'get',
    path: '/health/live',
    status: 200,
    ms: expect.any(Number),
    msg: 'request',
  });
});

test('log.access off: only the 500', async () => {
  const { node, lines } = await startWith('off');
  await requests(node);
  expect(summary(lines())).toEqual(['50 get /test/fails 500']);
});

test('log.access debug: only the 500 at log.level info, every request at log.level debug', async () => {
  const quiet = await startWith('debug', 'info');
  await requests(quiet.node);
  expect(summary(quiet.lines())).toEqual(['50 get /test/fails 500']);

  const verbose = await startWith('debug', 'debug');
  await requests(verbose.node);
  expect(summary(verbose.lines())).toEqual([
    '20 get /health/live 200',
    '20 get /auth/me 401',
    '20 get /nowhere 404',
    '50 get /test/fails 500',
  ]);
});

test("a readiness probe's 503 is its answer, not a failure: logged like any status, never at error", async () => {
  for (const [access, expected] of [
    ['info', ['30 get /health/ready 503', '50 get /test/fails 500']],
    ['off', ['50 get /test/fails 500']],
  ] as const) {
    const { node, lines } = await startWith(access);
    node.readiness.startDraining();
    let responded = 0;
    node.server.events.on('response', () => void responded++);
    for (const path of ['/health/ready', '/test/fails']) {
      const res = await fetch(`${node.server.info.uri}${path}`);
      await res.arrayBuffer();
      expect(res.status).toBe(path === '/health/ready' ? 503 : 500);
    }
    while (responded < 2) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(summary(lines())).toEqual(expected);
  }
});
