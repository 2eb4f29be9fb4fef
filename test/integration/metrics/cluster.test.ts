import cluster, { Worker } from 'node:cluster';
import path from 'node:path';
import { clusterScrape, PrimaryMetrics } from '../../../src/metrics';
import { find, parseExposition, valueOf } from '../../support/exposition';

/** Real workers (node:cluster) answering a real primary: the aggregation one node scrape shows. */
describe('cluster aggregation', () => {
  const workers: Worker[] = [];

  afterAll(async () => {
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            if (w.isDead()) return resolve();
            w.once('exit', () => resolve());
            w.kill();
          }),
      ),
    );
  });

  function fork(env: Record<string, string>): Promise<Worker> {
    const worker = cluster.fork(env);
    workers.push(worker);
    return new Promise((resolve, reject) => {
      worker.once('message', (m) => (m === 'ready' ? resolve(worker) : reject(new Error(m))));
      worker.once('exit', (code) => reject(new Error(`worker exited with ${code}`)));
    });
  }

  it('sums counters, takes the max of deployment-wide gauges and the min of health', async () => {
    cluster.setupPrimary({
      exec: path.join(__dirname, 'fixtures', 'cluster-worker.ts'),
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      silent: false,
    });
    const primary = new PrimaryMetrics();
    primary.setPreflight([
      { id: 'store.reachable', status: 'pass' },
      { id: 'store.persistence', status: 'pass' },
    ]);
    const scrape = clusterScrape({ primary: primary.registry, timeoutMs: 20_000 });
    await Promise.all([
      fork({ SESSIONS: '2', STORE_UP: '1' }),
      fork({ SESSIONS: '3', STORE_UP: '0' }),
    ]);

    const exp = parseExposition(await scrape());
    expect(valueOf(exp, 'holdfast_workers')).toBe(2);
    expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'password' })).toBe(5);
    // Each worker reports the deployment-wide figure: the node reports it once, not summed.
    expect(valueOf(exp, 'holdfast_sessions_active')).toBe(3);
    // One worker that cannot reach the store makes the node say the store is down.
    expect(valueOf(exp, 'holdfast_store_up')).toBe(0);
    expect(valueOf(exp, 'holdfast_preflight_check_status', { check: 'store.reachable' })).toBe(1);
    expect(
      valueOf(exp, 'holdfast_store_operation_duration_seconds_count', {
        operation: 'create',
        outcome: 'ok',
      }),
    ).toBe(5);
    // Process metrics of the primary and both workers are all there (prefixed).
    expect(find(exp, 'holdfast_process_resident_memory_bytes').length).toBe(1);
    expect(valueOf(exp, 'holdfast_process_resident_memory_bytes')).toBeGreaterThan(0);

    // A worker that is gone is left out of the next scrape; the scrape still answers.
    const gone = workers[1];
    await new Promise<void>((resolve) => {
      gone.once('exit', () => resolve());
      gone.kill();
    });
    const after = parseExposition(await scrape());
    expect(valueOf(after, 'holdfast_workers')).toBe(1);
    expect(valueOf(after, 'holdfast_sessions_active')).toBe(2);
    expect(valueOf(after, 'holdfast_store_up')).toBe(1);
  });
});
