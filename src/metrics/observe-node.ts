import type { AuthStats } from '../accounts';
import type { Settings } from '../config';
import type { Readiness } from '../health/readiness';
import type { StoreHealth } from '../health/store-health';
import type { SessionService } from '../session';
import type { Metrics } from './metrics';

/** What the metrics of one node read (createServices' result fits, plus its health when known). */
export interface ObservedNode {
  readonly settings: Settings;
  readonly sessions: SessionService;
  readonly events: { readonly stats: AuthStats };
  readonly store: { readonly kind: 'memory' | 'redis' };
  readonly storeHealth?: StoreHealth;
  readonly readiness?: Readiness;
  /** The expiry sweeper (ADR 230): what it sweeps counts in holdfast_sessions_expired_total. */
  readonly sweeper?: { readonly stats: { readonly expired: number } };
}

/**
 * Wires one serving process's metrics, the same for `holdfast start`'s workers and an embedding
 * app (holdfastMetrics): session and login counters, and the store figures of each health check.
 * A memory store is one master with no replicas, and none required.
 */
export function observeNode(metrics: Metrics, node: ObservedNode): void {
  metrics.observeSessions(node.sessions);
  metrics.observeAuth(node.events);
  if (node.sweeper) metrics.observeSweeper(node.sweeper);
  if (!node.storeHealth) return;
  const memory = node.store.kind === 'memory';
  const perMaster = node.settings.store.redis.require.replicasPerMaster;
  metrics.observeHealth(node.storeHealth, node.readiness, (s) => {
    const masters = memory ? 1 : s.details?.masters;
    return {
      masters,
      replicasOnline: memory ? 0 : s.details?.replicasOnline,
      replicasRequired: memory || masters === undefined ? 0 : perMaster * masters,
    };
  });
}
