import { Readiness } from '../../../src/health/readiness';
import { StoreHealth } from '../../../src/health/store-health';
import { createMetrics } from '../../../src/metrics';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import { find, parseExposition, valueOf } from '../../support/exposition';

describe('Metrics.observeHealth', () => {
  it('follows store health checks and readiness changes', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const engine = new MemoryEngine(4);
    let reachable = true;
    const health = new StoreHealth({
      ping: () => (reachable ? engine.ping() : Promise.reject(new Error('connect ECONNREFUSED'))),
      details: async () => ({ clusterOk: true, masters: 3, replicasOnline: 2, failovers: 1 }),
    });
    const readiness = new Readiness(health);
    metrics.observeHealth(health, readiness, (s) => ({
      masters: s.details?.masters,
      replicasOnline: s.details?.replicasOnline,
      replicasRequired: (s.details?.masters ?? 0) * 1,
    }));

    let exp = parseExposition(await metrics.scrape());
    expect(find(exp, 'holdfast_store_up')).toEqual([]); // not checked yet
    expect(valueOf(exp, 'holdfast_ready')).toBe(0);

    await health.check();
    readiness.setListening(true);
    exp = parseExposition(await metrics.scrape());
    expect(valueOf(exp, 'holdfast_store_up')).toBe(1);
    expect(valueOf(exp, 'holdfast_store_cluster_state_ok')).toBe(1);
    expect(valueOf(exp, 'holdfast_store_masters')).toBe(3);
    expect(valueOf(exp, 'holdfast_store_replicas_online')).toBe(2);
    expect(valueOf(exp, 'holdfast_store_replicas_required')).toBe(3);
    expect(valueOf(exp, 'holdfast_store_failovers_total')).toBe(1);
    expect(valueOf(exp, 'holdfast_ready')).toBe(1);

    reachable = false;
    await health.check();
    exp = parseExposition(await metrics.scrape());
    expect(valueOf(exp, 'holdfast_store_up')).toBe(0);
    expect(valueOf(exp, 'holdfast_store_cluster_state_ok')).toBe(0);
    expect(valueOf(exp, 'holdfast_ready')).toBe(0);
    health.stop();
  });
});
