import type { Plugin, RouteOptions } from '@hapi/hapi';
import { Registry } from 'prom-client';
import { HoldfastError } from '../errors';
import type {} from '../health/routes'; // its PluginProperties augmentation types server.plugins
import { requireSupportedHapi } from '../plugin/hapi-version';
import type { Metrics } from './metrics';
import { ObservedNode, observeNode } from './observe-node';

export interface MetricsPluginOptions {
  /** createServices(settings, { metrics: createMetrics() }): the store calls are timed then. */
  readonly services: Omit<ObservedNode, 'storeHealth' | 'readiness'> & {
    readonly metrics?: Metrics;
  };
  /** Where the exposition is served (default `/metrics`). */
  readonly path?: string;
  /** The route's auth (default false, like `holdfast start`'s metrics port: keep it unreachable from outside). */
  readonly auth?: RouteOptions['auth'];
}

/**
 * `holdfast start`'s metrics for an app that embeds Holdfast: the same registry and names
 * (docs/metrics.md), the app server's Holdfast routes timed, and the store and readiness gauges
 * when holdfastHealth is registered too (read at start, so the order of registration is free).
 */
export const holdfastMetrics: Plugin<MetricsPluginOptions> = {
  name: 'holdfast-metrics',
  version: '0.1.0',
  register(server, options) {
    requireSupportedHapi(server, 'holdfast-metrics');
    const { services } = options;
    const metrics = services?.metrics;
    if (!metrics) {
      throw new HoldfastError(
        'HF_PLUGIN_OPTIONS',
        'holdfast-metrics plugin options: services.metrics is missing: build the services with createServices(settings, { metrics: createMetrics() }) so store calls are timed too',
      );
    }
    metrics.observeServer(server);
    server.ext('onPreStart', () => {
      // Set by holdfastHealth when it is registered too (typed by its augmentation).
      observeNode(metrics, { ...services, ...server.plugins['holdfast-health'] });
    });
    server.route({
      method: 'GET',
      path: options.path ?? '/metrics',
      options: { auth: options.auth ?? false, cache: { otherwise: 'no-store' } },
      handler: async (_request, h) =>
        h.response(await metrics.scrape()).type(Registry.PROMETHEUS_CONTENT_TYPE),
    });
  },
};
