import type { Settings } from '../config';
import type { StoreEngine } from '../store';
import { Readiness } from './readiness';
import { StoreHealth } from './store-health';
import { RedisTopology } from './topology';

/** What the health of one node reads from createServices' result (a structural subset). */
export interface HealthServices {
  readonly settings: Settings;
  /** The engine the sessions use (pinged: the same path, timing and errors as requests). */
  readonly engine: { ping(): Promise<void> };
  /** The unwrapped engine: a Redis one's read connection gives the cluster figures. */
  readonly store: StoreEngine;
}

export interface NodeHealth {
  readonly storeHealth: StoreHealth;
  readonly readiness: Readiness;
}

/**
 * The continuous store check and readiness of one serving process, built the same way for
 * `holdfast start`'s workers and for an app that embeds Holdfast (holdfastHealth): a ping every
 * `intervalMs` bounded by store.redis.commandTimeout, cluster figures from a Redis store. Not
 * started: the caller starts the check once the store is connected.
 */
export function createNodeHealth(services: HealthServices, intervalMs = 1000): NodeHealth {
  const { store, engine, settings } = services;
  const topology =
    store.kind === 'redis'
      ? new RedisTopology(() => store.connection.reads, store.keys)
      : undefined;
  const storeHealth = new StoreHealth({
    ping: () => engine.ping(),
    details: topology ? () => topology.details() : undefined,
    intervalMs,
    timeoutMs: settings.store.redis.commandTimeout,
  });
  return { storeHealth, readiness: new Readiness(storeHealth) };
}
