/**
 * Free loopback TCP ports. A port is free when we can bind it on 127.0.0.1; the gap between
 * our close() and the server's bind() is a race, so redis-process.ts retries on EADDRINUSE.
 */
import net from 'node:net';

export const LOOPBACK = '127.0.0.1';

/** A Redis Cluster node also listens on port + 10000 (its cluster bus). */
export const CLUSTER_BUS_OFFSET = 10000;

/** Ports this process handed out: the kernel may offer a just-closed port again. */
const handedOut = new Set<number>();

/** Binds `port` (0 = any) on loopback, closes it, and returns the bound port or null. */
function probe(port: number): Promise<number | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(null));
    server.listen({ host: LOOPBACK, port, exclusive: true }, () => {
      const address = server.address();
      const bound = typeof address === 'object' && address !== null ? address.port : null;
      server.close(() => resolve(bound));
    });
  });
}

/** One free port, distinct from every port handed out before by this process. */
export async function freePort(): Promise<number> {
  return (await freePorts(1))[0];
}

/** `count` distinct free ports. */
export async function freePorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 1000) throw new Error(`could not find ${count} free loopback ports`);
    const port = await probe(0);
    if (port === null || handedOut.has(port)) continue;
    handedOut.add(port);
    ports.push(port);
  }
  return ports;
}

/**
 * `count` ports P for cluster nodes: P and its bus port P + 10000 are both free, P + 10000
 * stays a valid port, and no P or bus port overlaps another one handed out.
 */
export async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count; attempt++) {
    if (attempt > 5000) throw new Error(`could not find ${count} free cluster port pairs`);
    const port = await probe(0);
    if (port === null) continue;
    const bus = port + CLUSTER_BUS_OFFSET;
    if (bus > 65535 || handedOut.has(port) || handedOut.has(bus)) continue;
    // Reserve both before awaiting, so concurrent callers cannot pick the same pair.
    handedOut.add(port);
    handedOut.add(bus);
    if ((await probe(bus)) !== bus) continue;
    ports.push(port);
  }
  return ports;
}
