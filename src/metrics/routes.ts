import type { Request, Server } from '@hapi/hapi';
import type { Histogram } from 'prom-client';

/** Route templates timed by default: the auth API and the account pages. */
export function isHoldfastRoute(path: string): boolean {
  return (
    path === '/auth' ||
    path.startsWith('/auth/') ||
    path === '/login' ||
    path === '/register' ||
    path === '/account'
  );
}

const STARTED = Symbol('holdfast.metrics.started');
type Stamped = Request & { [STARTED]?: bigint };

function statusClass(request: Request): string {
  const response = request.response as { statusCode?: number; output?: { statusCode: number } };
  const code = response?.output?.statusCode ?? response?.statusCode;
  // A request the client aborted has no status: count it apart rather than guess one.
  return typeof code === 'number' ? `${Math.floor(code / 100)}xx` : 'aborted';
}

/**
 * Times Holdfast's routes into `histogram`. The label is the route template (`/auth/sessions/{id}`),
 * never the requested path, so ids never become label values and the label set stays bounded.
 */
export function instrumentRoutes(
  server: Server,
  histogram: Histogram<'route' | 'method' | 'status_class'>,
  include: (path: string) => boolean = isHoldfastRoute,
): void {
  server.ext('onRequest', (request, h) => {
    (request as Stamped)[STARTED] = process.hrtime.bigint();
    return h.continue;
  });
  server.events.on('response', (request) => {
    const started = (request as Stamped)[STARTED];
    const path = request.route?.path;
    if (started === undefined || !path || !include(path)) return;
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    histogram.observe(
      { route: path, method: request.method.toUpperCase(), status_class: statusClass(request) },
      seconds,
    );
  });
}
