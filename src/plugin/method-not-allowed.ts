import Boom from '@hapi/boom';
import type { Server } from '@hapi/hapi';
import { documentedRoutes } from './openapi';

/**
 * 405 Method Not Allowed, with Allow, for a method no route of a documented path serves (a TRACE
 * or PATCH to /auth/login): hapi alone answers 404, which says the resource does not exist
 * (RFC 9110 15.5.6; found by schemathesis, docs/reliability.md). One `*` route per path, which
 * hapi matches only when no route of that method exists; not documented (no `api` tag).
 */
export function registerMethodNotAllowed(server: Server): void {
  // The table holds paths as served; server.route adds the plugin's prefix again.
  const prefix = server.realm.modifiers.route.prefix ?? '';
  const byPath = new Map<string, Set<string>>();
  for (const route of documentedRoutes(server.table())) {
    const methods = byPath.get(route.path) ?? new Set<string>();
    methods.add(route.method.toUpperCase());
    // hapi answers HEAD with the GET route.
    if (route.method === 'get') methods.add('HEAD');
    byPath.set(route.path, methods);
  }
  for (const [path, methods] of byPath) {
    const allow = [...methods].sort();
    server.route({
      method: '*',
      path: path.slice(prefix.length),
      options: {
        auth: false,
        // The body is never read: the method alone decides the answer.
        payload: { parse: false, output: 'stream' },
        handler: () => {
          throw Boom.methodNotAllowed(`${path} answers ${allow.join(', ')}`, undefined, allow);
        },
      },
    });
  }
}
