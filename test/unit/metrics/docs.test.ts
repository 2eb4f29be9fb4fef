import Hapi from '@hapi/hapi';
import { AuthEvents } from '../../../src/accounts';
import { loadSettings } from '../../../src/config';
import { createMetrics, METRICS, PrimaryMetrics } from '../../../src/metrics';
import { SessionPolicy, SessionService } from '../../../src/session';
import { KeyLayout } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import { withNearCache } from '../../../src/store/near-cache';
import { documentedMetrics } from '../../support/metrics-docs';
import { parseExposition } from '../../support/exposition';

/** Labels a histogram or summary adds to its samples by itself. */
const SERIES_LABELS = new Set(['le', 'quantile']);

/** Metric family of a sample name (histograms expose _bucket, _sum, _count). */
function family(sample: string, families: Set<string>): string {
  if (families.has(sample)) return sample;
  const base = sample.replace(/_(bucket|sum|count)$/, '');
  if (families.has(base)) return base;
  throw new Error(`sample ${sample} belongs to no registered metric`);
}

/** Every metric of a node, with every source observed, as a scrape sees it. */
async function everything() {
  const settings = loadSettings({ env: { NODE_ENV: 'test' } });
  const metrics = createMetrics();
  const sessions = new SessionService(
    metrics.instrumentEngine(new MemoryEngine(4)),
    new KeyLayout('hf', 4),
    new SessionPolicy(settings.session),
  );
  metrics.observeSessions(sessions);
  const store = new MemoryEngine(4);
  metrics.observeNearCache(
    withNearCache(store, store, new KeyLayout('hf', 4), { staleness: 1000, maxEntries: 10 }),
  );
  metrics.observeAuth(new AuthEvents());
  const server = Hapi.server();
  metrics.observeServer(server);
  server.route({ method: 'GET', path: '/auth/me', handler: () => 'ok' });
  await server.inject('/auth/me');
  metrics.setStoreHealth({
    up: true,
    clusterOk: true,
    masters: 3,
    replicasOnline: 3,
    replicasRequired: 3,
    failovers: 0,
  });
  metrics.setReady(true);
  metrics.setPreflight([{ id: 'store.reachable', status: 'pass' }]);
  const primary = new PrimaryMetrics();
  primary.setPreflight([{ id: 'store.reachable', status: 'pass' }]);
  return [
    parseExposition(await metrics.scrape()),
    parseExposition(await primary.registry.metrics()),
  ];
}

describe('docs/metrics.md', () => {
  const documented = documentedMetrics();

  it('lists every metric of the catalogue with the same type and labels', () => {
    for (const def of Object.values(METRICS)) {
      const doc = documented.get(def.name);
      expect({ name: def.name, listed: doc !== undefined }).toEqual({
        name: def.name,
        listed: true,
      });
      expect({ name: def.name, type: doc?.type, labels: doc?.labels }).toEqual({
        name: def.name,
        type: def.type,
        labels: [...def.labels],
      });
    }
  });

  it('lists exactly what a scrape exposes, in both directions, with no undocumented label', async () => {
    const exposed = new Set<string>();
    for (const exp of await everything()) {
      const families = new Set(exp.types.keys());
      for (const [name, type] of exp.types) {
        exposed.add(name);
        expect({ name, listed: documented.has(name) }).toEqual({ name, listed: true });
        expect({ name, type: documented.get(name)?.type }).toEqual({ name, type });
      }
      for (const sample of exp.samples) {
        const name = family(sample.name, families);
        const allowed = new Set(documented.get(name)?.labels ?? []);
        for (const label of Object.keys(sample.labels)) {
          if (SERIES_LABELS.has(label)) continue;
          expect({ name, label, documented: allowed.has(label) }).toEqual({
            name,
            label,
            documented: true,
          });
        }
      }
    }
    for (const name of documented.keys()) {
      expect({ name, exposed: exposed.has(name) }).toEqual({ name, exposed: true });
    }
  });

  it('follows the naming conventions: prefix, units, _total on counters only', () => {
    for (const { name, type } of documented.values()) {
      expect(name).toMatch(/^holdfast_[a-z0-9_]+$/);
      if (type === 'counter') expect(name).toMatch(/_total$/);
      if (type === 'histogram') expect(name).toMatch(/_(seconds|bytes)$/);
    }
    // prom-client's own gauges (nodejs_active_handles_total) predate the rule; ours follow it.
    for (const def of Object.values(METRICS)) {
      if (def.type !== 'counter') expect(def.name).not.toMatch(/_total$/);
    }
  });

  it('keeps the names dashboards and the chart rely on (DESIGN.md contract)', () => {
    for (const name of [
      'holdfast_sessions_active',
      'holdfast_users_active',
      'holdfast_sessions_created_total',
      'holdfast_sessions_revoked_total',
      'holdfast_logins_failed_total',
      'holdfast_store_operation_duration_seconds',
      'holdfast_store_up',
    ]) {
      expect(documented.has(name)).toBe(true);
      expect(Object.values(METRICS).some((m) => m.name === name)).toBe(true);
    }
  });
});
