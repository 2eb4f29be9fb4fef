import cluster from 'node:cluster';
import { AggregatorRegistry, Registry } from 'prom-client';

/**
 * Node-level metrics under node:cluster: the primary asks every worker for its registry as JSON
 * over the IPC channel and folds them with prom-client's AggregatorRegistry.aggregate, each metric
 * by its own aggregator (catalogue.ts). Our own message types rather than prom-client's
 * clusterMetrics(): a worker that does not answer in time is left out of one scrape instead of
 * failing it, and the primary's own registry (preflight results) joins the aggregate.
 */
const REQUEST = 'holdfast:metrics:request';
const RESPONSE = 'holdfast:metrics:response';

type MetricsJson = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

interface Request {
  readonly type: typeof REQUEST;
  readonly id: number;
}

interface Response {
  readonly type: typeof RESPONSE;
  readonly id: number;
  readonly metrics?: MetricsJson;
  readonly error?: string;
}

function isRequest(m: unknown): m is Request {
  return typeof m === 'object' && m !== null && (m as Request).type === REQUEST;
}

function isResponse(m: unknown): m is Response {
  return typeof m === 'object' && m !== null && (m as Response).type === RESPONSE;
}

/**
 * In a worker: answers the primary's requests with these metrics (a Metrics, or any registry).
 * Returns a function that stops answering (call it on shutdown).
 */
export function answerPrimary(source: Registry | { json(): Promise<MetricsJson> }): () => void {
  const read = (): Promise<MetricsJson> =>
    source instanceof Registry ? source.getMetricsAsJSON() : source.json();
  const onMessage = (message: unknown): void => {
    if (!isRequest(message) || !process.send) return;
    read().then(
      (metrics) => process.send?.({ type: RESPONSE, id: message.id, metrics } satisfies Response),
      (err: unknown) =>
        process.send?.({ type: RESPONSE, id: message.id, error: String(err) } satisfies Response),
    );
  };
  process.on('message', onMessage);
  return () => process.off('message', onMessage);
}

export interface ClusterScrapeOptions {
  /** The primary's own metrics (e.g. preflight check status), aggregated with the workers'. */
  readonly primary?: Registry;
  /** How long to wait for workers; those that have not answered are left out of this scrape. */
  readonly timeoutMs?: number;
}

/**
 * In the primary: returns a scrape function for startMetricsServer that aggregates every
 * connected worker's metrics (plus `primary`). Call once; it listens on cluster 'message'.
 */
export function clusterScrape(opts: ClusterScrapeOptions = {}): () => Promise<string> {
  const timeoutMs = opts.timeoutMs ?? 3000;
  let nextId = 0;
  const pending = new Map<number, (r: Response) => void>();
  cluster.on('message', (_worker, message: unknown) => {
    if (isResponse(message)) pending.get(message.id)?.(message);
  });

  return async () => {
    const id = nextId++;
    const workers = Object.values(cluster.workers ?? {}).filter((w) => w?.isConnected());
    const answers: MetricsJson[] = [];
    await new Promise<void>((resolve) => {
      let waiting = workers.length;
      const finish = (): void => {
        clearTimeout(timer);
        pending.delete(id);
        resolve();
      };
      const timer = setTimeout(finish, timeoutMs);
      pending.set(id, (r) => {
        if (r.metrics) answers.push(r.metrics);
        if (--waiting === 0) finish();
      });
      if (waiting === 0) finish();
      for (const w of workers) {
        try {
          w?.send({ type: REQUEST, id } satisfies Request);
        } catch {
          // The worker died between the filter and the send: one fewer answer to wait for.
          if (--waiting === 0) finish();
        }
      }
    });
    const all = opts.primary ? [...answers, await opts.primary.getMetricsAsJSON()] : answers;
    return AggregatorRegistry.aggregate(all).metrics();
  };
}
