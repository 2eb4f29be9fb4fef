import type { Request, Server } from '@hapi/hapi';
import type { IncomingMessage } from 'node:http';
import type { BoundHistogram, Observer } from './bound-histogram';

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

const RECEIVED = Symbol('holdfast.metrics.received');
type Stamped = IncomingMessage & { [RECEIVED]?: number };

/** Status classes by hundreds: built once, so a request allocates no label string. */
const STATUS_CLASSES = ['0xx', '1xx', '2xx', '3xx', '4xx', '5xx'];

function statusClass(request: Request): string {
  const response = request.response as { statusCode?: number; output?: { statusCode: number } };
  const code = response?.output?.statusCode ?? response?.statusCode;
  // A request the client aborted has no status: count it apart rather than guess one.
  if (typeof code !== 'number') return 'aborted';
  return STATUS_CLASSES[Math.floor(code / 100)] ?? `${Math.floor(code / 100)}xx`;
}

/**
 * The histogram's children of one route template: one per method and status class, made by
 * labels() on first use. observe() with a label object would hash that object on every request.
 */
class RouteSeries {
  private readonly children = new Map<string, Map<string, Observer>>();

  constructor(
    private readonly histogram: BoundHistogram<'route' | 'method' | 'status_class'>,
    private readonly route: string,
  ) {}

  child(method: string, statusClass: string): Observer {
    let byClass = this.children.get(method);
    if (!byClass) this.children.set(method, (byClass = new Map()));
    let child = byClass.get(statusClass);
    if (!child) {
      child = this.histogram.bind({
        route: this.route,
        method: method.toUpperCase(),
        status_class: statusClass,
      });
      byClass.set(statusClass, child);
    }
    return child;
  }
}

/**
 * Times Holdfast's routes into `histogram`. The label is the route template (`/auth/sessions/{id}`),
 * never the requested path, so ids never become label values and the label set stays bounded.
 */
export function instrumentRoutes(
  server: Server,
  histogram: BoundHistogram<'route' | 'method' | 'status_class'>,
  include: (path: string) => boolean = isHoldfastRoute,
): void {
  // Per route template: its series, or null when the route is not timed (decided once).
  const routes = new Map<string, RouteSeries | null>();
  // The clock starts when the socket's request arrives, before Hapi builds its request: a plain
  // listener, where an onRequest extension would add an await chain to every request (ADR 235).
  // First in line, so Hapi's own listener runs after it. performance.now(): no BigInt per request.
  server.listener.prependListener('request', (req: Stamped) => {
    req[RECEIVED] = performance.now();
  });
  server.events.on('response', (request) => {
    const path = request.route?.path;
    if (!path) return;
    let series = routes.get(path);
    if (series === undefined) {
      series = include(path) ? new RouteSeries(histogram, path) : null;
      routes.set(path, series);
    }
    if (series === null) return;
    const received = (request.raw.req as Stamped)[RECEIVED];
    // server.inject() skips the socket and its listener: Hapi's millisecond clock times those.
    const seconds =
      received === undefined
        ? Math.max(0, Date.now() - request.info.received) / 1e3
        : (performance.now() - received) / 1e3;
    series.child(request.method, statusClass(request)).observe(seconds);
  });
}
