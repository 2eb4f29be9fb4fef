import type { Plugin } from '@hapi/hapi';
import type { Readiness } from './readiness';

export interface HealthRoutesOptions {
  readonly readiness: Readiness;
}

/**
 * `/health/live`: the process is up and serving HTTP (a liveness probe restarts it otherwise).
 * `/health/ready`: this process listens, is not draining, and the store answers now; 503
 * otherwise, with the reasons. Neither needs a session, and neither touches the store itself: the
 * continuous health check has the answer already, so probes cost nothing under an outage.
 */
export const healthRoutes: Plugin<HealthRoutesOptions> = {
  name: 'holdfast-health',
  register(server, { readiness }) {
    const options = {
      auth: false as const,
      cache: { privacy: 'private' as const, otherwise: 'no-store' },
    };
    server.route({
      method: 'GET',
      path: '/health/live',
      options,
      handler: () => ({ status: 'live', pid: process.pid }),
    });
    server.route({
      method: 'GET',
      path: '/health/ready',
      options,
      handler: (_request, h) => {
        const s = readiness.state;
        return h
          .response({ status: s.ready ? 'ready' : 'not ready', ...s, pid: process.pid })
          .code(s.ready ? 200 : 503);
      },
    });
  },
};
