import type { Request, ResponseObject, ResponseToolkit, Server } from '@hapi/hapi';
import type { Boom } from '@hapi/boom';
import type { Settings } from '../config/settings';
import { durability, REVOKING_OPERATIONS } from '../store/durability';
import type { DurabilityScope } from '../store/durability';

/** The response header that says a change is made but not yet acknowledged by replicas. */
export const DURABILITY_HEADER = 'Holdfast-Durability';

/**
 * Honest durability at the HTTP edge (ADR 215). When store.redis.durability.replicas > 0, each
 * request gets a durability scope; a change the store made but too few replicas acknowledged in
 * time (login, password change, logout...) is answered as what it is:
 * - `Holdfast-Durability: pending` on the response, whatever the route (a remember-me login can
 *   happen on any route);
 * - a revocation (logout, ending a session) that stayed pending after its retried WAITs answers
 *   202 Accepted instead of 200/204: done on the master, not yet safe from a failover. A login
 *   keeps its 200 and its cookie: the session exists, and refusing it would strand it.
 * Nothing is registered without durability: no cost per request. Returns what onRequest enters.
 */
export function registerDurability(
  server: Server,
  settings: Settings,
): ((request: Request) => void) | undefined {
  if (settings.store.type !== 'redis' || settings.store.redis.durability.replicas <= 0) return;
  const scopes = new WeakMap<Request, DurabilityScope>();
  server.ext('onPreResponse', (request: Request, h: ResponseToolkit) => {
    const pending = scopes.get(request)?.pending;
    if (!pending?.length) return h.continue;
    const response = request.response as ResponseObject | Boom;
    if ('isBoom' in response && response.isBoom) {
      response.output.headers[DURABILITY_HEADER] = 'pending';
      return h.continue;
    }
    const ok = response as ResponseObject;
    ok.header(DURABILITY_HEADER, 'pending');
    const status = ok.statusCode;
    if ((status === 200 || status === 204) && pending.some((op) => REVOKING_OPERATIONS.has(op))) {
      ok.code(202);
    }
    return h.continue;
  });
  // Entered in the plugin's one onRequest extension (registerRequestScopes).
  return (request) => {
    scopes.set(request, durability.enter());
  };
}
