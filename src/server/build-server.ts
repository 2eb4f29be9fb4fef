import Hapi, { Server } from '@hapi/hapi';
import { healthRoutes, PROBE_TAG, Readiness } from '../health';
import { AccessLog } from '../log/access';
import type { Logger } from '../log/logger';
import type { Metrics } from '../metrics';
import { SCHEME } from '../auth';
import { holdfastPlugin } from '../plugin';
import type { Services } from './services';

export interface ServerParts {
  readonly services: Services;
  readonly readiness: Readiness;
  readonly logger: Logger;
  /** This process's metrics, when metrics are on: auth routes timed, audit events counted. */
  readonly metrics?: Metrics;
}

/**
 * The Hapi server of one worker: health routes, the Holdfast plugin (auth scheme, /auth API,
 * pages), request logs. Built, not started: the caller starts it once the store is connected.
 */
export async function buildServer(parts: ServerParts): Promise<Server> {
  const { services, readiness, logger, metrics } = parts;
  const { settings, sessions, accounts } = services;
  const server = Hapi.server({
    host: settings.http.host,
    port: settings.http.port,
    // Errors go to the pino logger below, never to the console.
    debug: false,
    routes: {
      security: {
        hsts: settings.cookie.secure,
        xframe: true,
        noSniff: true,
        referrer: 'same-origin',
      },
    },
  });
  if (metrics) metrics.observeServer(server);
  logRequests(server, logger, new AccessLog(logger, settings.log.access));

  await server.register({ plugin: healthRoutes, options: { readiness } });
  await server.register({
    plugin: holdfastPlugin,
    options: {
      settings,
      sessions,
      accounts,
      logger,
      passwordReset: services.passwordReset,
      verification: services.verification,
    },
  });
  routeHome(server);
  return server;
}

/**
 * `/` on the standalone server: a person who opens the bare address lands on a page, not a JSON
 * 404. Only here: an app that embeds the plugin owns its own `/`.
 */
function routeHome(server: Server): void {
  server.route({
    method: 'GET',
    path: '/',
    options: {
      // try: an expired or unknown cookie just means "not signed in", never an error page.
      auth: { mode: 'try', strategy: SCHEME },
      handler: (request, h) =>
        h.redirect(request.auth.isAuthenticated ? '/account' : '/login').code(302),
    },
  });
}

/**
 * The access log (log.access; 5xx always) and request errors. Nothing is built for a request whose
 * line is not written: the status decides first.
 */
function logRequests(server: Server, logger: Logger, access: AccessLog): void {
  server.events.on('response', (request) => {
    const response = request.response as {
      statusCode?: number;
      output?: { statusCode: number };
    } | null;
    const status = response?.statusCode ?? response?.output?.statusCode;
    // A readiness probe's 503 says "not ready" (logged once per change), it is not a failure.
    const expected = status === 503 && request.route.settings.tags?.includes(PROBE_TAG) === true;
    if (!access.wants(status, expected)) return;
    access.write(
      {
        reqId: request.info.id,
        method: request.method,
        path: request.path,
        status,
        ms: Math.round(request.info.completed - request.info.received),
      },
      expected,
    );
  });
  server.events.on({ name: 'request', channels: 'error' }, (request, event) => {
    logger.error(
      { reqId: request.info.id, path: request.path, err: event.error },
      'request failed',
    );
  });
}
