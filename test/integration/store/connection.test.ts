/**
 * RedisConnection.close on real servers that went away: a node that stops while its store is
 * down or frozen (a rolling restart during a Redis outage) must still be able to exit. QUIT
 * cannot be sent without a connection (there is no offline queue) or gets no answer, and a client
 * left as it was goes on reconnecting every 2 s for ever, which keeps the process alive. Each test
 * brings the servers back after close() and checks, for longer than the longest reconnect delay,
 * that no client of the closed connection came back.
 */
import { RedisConnection } from '../../../src/store/redis/connection';
import { getProvider, startCluster, type RedisNode } from '../../harness';
import { sleep } from '../../harness/wait';
import { freeze } from '../../support/freeze';
import { redisSettings } from '../../support/store-fixtures';

jest.setTimeout(60_000);

const COMMAND_TIMEOUT = 500;
/** Longer than the clients' longest reconnect delay (retryStrategy: at most 2 s). */
const RECONNECT_WINDOW_MS = 3_000;
const NAME = 'hf-close';
const cleanups: Array<() => Promise<unknown> | unknown> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Names of the connection's clients that a server lists now. */
async function connected(nodes: readonly RedisNode[]): Promise<string[]> {
  const lists = await Promise.all(nodes.map((n) => n.command(['CLIENT', 'LIST'])));
  return lists
    .flatMap((list) => String(list).split('\n'))
    .map((line) => /\bname=(\S*)/.exec(line)?.[1] ?? '')
    .filter((name) => name.startsWith(NAME));
}

async function openOn(settings: Parameters<typeof redisSettings>[0]): Promise<RedisConnection> {
  const connection = await RedisConnection.open(
    redisSettings({ commandTimeout: COMMAND_TIMEOUT, ...settings }),
    NAME,
  );
  cleanups.push(() => connection.close());
  await connection.reads.set('k', 'v');
  await connection.writes.set('k', 'v');
  return connection;
}

async function standalone(): Promise<RedisNode> {
  const node = await getProvider().standalone();
  cleanups.push(() => node.destroy());
  return node;
}

it('ends both clients when the one server is down', async () => {
  const node = await standalone();
  const connection = await openOn({ nodes: [{ host: node.host, port: node.port }] });
  expect(await connected([node])).toHaveLength(2);

  await node.stop();
  await expect(connection.reads.get('k')).rejects.toThrow();
  await connection.close();
  await node.start();
  await sleep(RECONNECT_WINDOW_MS);
  expect(await connected([node])).toEqual([]);
});

it('ends both clients when every cluster master is down', async () => {
  const cluster = await startCluster({ masters: 3, replicasPerMaster: 0 });
  cleanups.push(() => cluster.stop());
  const connection = await openOn({ mode: 'cluster', nodes: cluster.seeds });
  expect((await connected(cluster.nodes)).length).toBeGreaterThanOrEqual(2);

  await Promise.all(cluster.nodes.map((n) => n.stop()));
  await expect(connection.reads.get('k')).rejects.toThrow();
  await connection.close();
  await Promise.all(cluster.nodes.map((n) => n.start()));
  await sleep(RECONNECT_WINDOW_MS);
  expect(await connected(cluster.nodes)).toEqual([]);
});

it('ends both clients when the server is frozen and QUIT gets no answer', async () => {
  const node = await standalone();
  await openOn({ nodes: [{ host: node.host, port: node.port }] });
  const connection = await openOn({ nodes: [{ host: node.host, port: node.port }] });

  const thaw = freeze([node]);
  cleanups.push(thaw);
  await connection.close();
  thaw();
  await sleep(RECONNECT_WINDOW_MS);
  // The first connection, left open, is still there: the count says the closed one is gone.
  expect(await connected([node])).toHaveLength(2);
});
