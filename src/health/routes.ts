import type { Plugin, Server } from '@hapi/hapi';
import { requireSupportedHapi } from '../plugin/hapi-version';
import { ExpirySweeper } from '../store';
import { createNodeHealth, HealthServices, NodeHealth } from './node-health';
import type { Readiness } from './readiness';

/**
 * Either the readiness of a node that manages it itself (`holdfast start`'s workers), or the
 * services of an app that embeds Holdfast: the plugin then builds the store check and readiness,
 * starts the check with the server, turns ready once it listens and not ready when it stops.
 */
export type HealthRoutesOptions =
  | { readonly readiness: Readiness }
  | {
      readonly services: HealthServices;
      /** Store check period (default 1 s). */
      readonly intervalMs?: number;
    };

/** What `server.plugins['holdfast-health']` holds in library mode (holdfastMetrics reads it). */
export type HealthExposed = NodeHealth & {
  /** The expiry sweeper (ADR 230), as a worker runs it; absent at store.sweep.interval 0. */
  readonly sweeper?: ExpirySweeper;
};

declare module '@hapi/hapi' {
  interface PluginProperties {
    /** Set when holdfastHealth manages the check itself (registered with `services`). */
    'holdfast-health'?: HealthExposed;
  }
}

/** Tags the readiness route: the access log writes its 503 at the access level, not at error. */
export const PROBE_TAG = 'holdfast-probe';

/**
 * `/health/live`: the process is up and serving HTTP (a liveness probe restarts it otherwise).
 * `/health/ready`: this process listens, is not draining, and the store answers now; 503
 * otherwise, with the reasons. Neither needs a session, and neither touches the store itself: the
 * continuous health check has the answer already, so probes cost nothing under an outage.
 */
export const holdfastHealth: Plugin<HealthRoutesOptions> = {
  name: 'holdfast-health',
  version: '0.1.0',
  register(server, options) {
    requireSupportedHapi(server, 'holdfast-health');
    const readiness = 'readiness' in options ? options.readiness : manage(server, options);
    const route = {
      auth: false as const,
      cache: { privacy: 'private' as const, otherwise: 'no-store' },
    };
    server.route({
      method: 'GET',
      path: '/health/live',
      options: route,
      handler: () => ({ status: 'live', pid: process.pid }),
    });
    server.route({
      method: 'GET',
      path: '/health/ready',
      // A 503 here is the probe's answer, not a failure: transitions are logged once (node.ts).
      options: { ...route, tags: [PROBE_TAG] },
      handler: (_request, h) => {
        const s = readiness.state;
        return h
          .response({ status: s.ready ? 'ready' : 'not ready', ...s, pid: process.pid })
          .code(s.ready ? 200 : 503);
      },
    });
  },
};

/** The name `holdfast start`'s server has always registered. */
export const healthRoutes = holdfastHealth;

/**
 * Library mode: the same check and readiness as a worker's (createNodeHealth), tied to the hapi
 * server's lifecycle. The app owns its shutdown, so there is no drain delay here: readiness turns
 * false when server.stop() begins (onPreStop), before connections close.
 */
function manage(
  server: Server,
  options: Extract<HealthRoutesOptions, { services: HealthServices }>,
): Readiness {
  const health = createNodeHealth(options.services, options.intervalMs);
  const { storeHealth, readiness } = health;
  const { interval } = options.services.settings.store.sweep;
  const sweeper =
    interval > 0 ? new ExpirySweeper(options.services.store, { intervalMs: interval }) : undefined;
  server.ext('onPreStart', async () => {
    await storeHealth.start();
    sweeper?.start();
  });
  server.ext('onPostStart', () => readiness.setListening(true));
  server.ext('onPreStop', () => readiness.startDraining());
  server.ext('onPostStop', async () => {
    storeHealth.stop();
    await sweeper?.stop();
  });
  server.expose('storeHealth', storeHealth);
  server.expose('readiness', readiness);
  if (sweeper) server.expose('sweeper', sweeper);
  return readiness;
}
