import type { Request, ResponseToolkit, Server, ServerAuthSchemeObject } from '@hapi/hapi';
import type { Settings } from '../config/settings';
import { deadlines } from '../store/deadline';

type Enter = (request: Request) => void;

/**
 * The whole-request deadline at the HTTP edge (ADR 245): with the Redis store, each request's store
 * work must end within store.redis.commandTimeout of its arrival, so a write that sends several
 * commands (throttle, lookup, session script, WAIT, redirect retries) is answered within
 * commandTimeout + ANSWER_MARGIN_MS, 503 + Retry-After (HF_STORE_UNAVAILABLE, cause `deadline`)
 * when the store could not finish in time. Carried by the request's async context (not hapi's
 * route timeout), so each store call stops early and the answer is our own 503 problem document.
 * On a request with a payload the clock stops from onPreAuth to onPostAuth, except while the
 * scheme authenticates (timedAuthentication): hapi reads the payload in between, and a slow upload
 * is the client's time, not the store's. Undefined for the memory store (nothing to enter).
 */
export function requestDeadline(server: Server, settings: Settings): Enter | undefined {
  if (settings.store.type !== 'redis') return undefined;
  const budget = settings.store.redis.commandTimeout;
  // On the plugin's own routes only (where its writes are): the host's routes, the hot GET among
  // them, pay nothing for it.
  server.ext(
    'onPreAuth',
    (request: Request, h: ResponseToolkit) => {
      if (hasPayload(request)) deadlines.pause();
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
  server.ext(
    'onPostAuth',
    (_request: Request, h: ResponseToolkit) => {
      deadlines.resume();
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
  return (request) => deadlines.enter(request.info.received, budget);
}

/**
 * The scheme's authenticate on the clock (its session read is store work), stopped again for the
 * payload hapi reads next. A GET (no payload) goes straight through: the clock never stopped.
 */
export function timedAuthentication(scheme: ServerAuthSchemeObject): ServerAuthSchemeObject {
  const authenticate = scheme.authenticate.bind(scheme);
  const timed = async (request: Request, h: ResponseToolkit) => {
    deadlines.resume();
    try {
      return await authenticate(request, h);
    } finally {
      deadlines.pause();
    }
  };
  return {
    ...scheme,
    authenticate: (request, h) =>
      hasPayload(request) ? timed(request, h) : authenticate(request, h),
  };
}

function hasPayload(request: Request): boolean {
  return request.method !== 'get' && request.method !== 'head';
}

/**
 * One onRequest extension that enters every per-request async scope (the deadline, durability).
 * One, not one each: hapi keeps the async-context change of only the first onRequest extension
 * (measured with two AsyncLocalStorage.enterWith calls on hapi 21, Node 20 and 24: the second
 * store was gone in the handler).
 */
export function registerRequestScopes(server: Server, enters: ReadonlyArray<Enter | undefined>) {
  const all = enters.filter((e): e is Enter => e !== undefined);
  if (all.length === 0) return;
  server.ext('onRequest', (request: Request, h: ResponseToolkit) => {
    for (const enter of all) enter(request);
    return h.continue;
  });
}
