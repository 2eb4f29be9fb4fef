import Boom from '@hapi/boom';
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';

/** Methods whose body a route of the plugin may read. */
const WITH_BODY = new Set(['post', 'put', 'patch', 'delete']);

/**
 * A request body without Content-Type is refused with 415 on every route of the plugin, before
 * anything reads it. hapi would parse it as JSON, and a cross-site `fetch` can send a typeless body
 * (a Blob) without a CORS preflight, so "JSON bodies only" would not hold. Runs before
 * authentication (payload parsing comes after it); the message names the type the route takes.
 */
export function registerMediaType(server: Server): void {
  server.ext(
    'onPreAuth',
    (r: Request, h: ResponseToolkit) => {
      if (WITH_BODY.has(r.method) && hasBody(r) && !r.headers['content-type']) {
        const allow = r.route.settings.payload?.allow;
        const wanted = Array.isArray(allow) ? allow.join(' or ') : (allow ?? 'application/json');
        // mapErrors tags it HF_REQUEST_INVALID, like hapi's own 415 for a wrong type.
        throw Boom.unsupportedMediaType(
          `the request has a body but no Content-Type header: send Content-Type: ${wanted}`,
        );
      }
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
}

function hasBody(r: Request): boolean {
  const length = r.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return r.headers['transfer-encoding'] !== undefined;
}
