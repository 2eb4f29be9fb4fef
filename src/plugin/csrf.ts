import { createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, ResponseToolkit, Server } from '@hapi/hapi';
import { cookiePasswordKey } from '../auth/cookies';
import { HoldfastError } from '../errors';

/**
 * Cross-site request forgery defences.
 * - Every state-changing route: the browser's Origin (or Sec-Fetch-Site when Origin is absent)
 *   must be this site or one of csrf.origins. Browsers send Origin on every cross-origin POST,
 *   PUT and DELETE; a request with neither header does not come from another site's page.
 * - HTML forms of a signed-in user also carry a crumb: HMAC(session id) under a key derived
 *   once from cookie.password at start (never per request).
 */
export class Csrf {
  private readonly key: Buffer;
  private readonly origins: Set<string>;

  constructor(
    password: string,
    origins: readonly string[],
    private readonly secure: boolean,
  ) {
    this.key = cookiePasswordKey(password, 'csrf-crumb-v1');
    this.origins = new Set(origins.map((o) => new URL(o).origin));
  }

  /** Throws HF_CSRF (403) when a state-changing request comes from another site. */
  checkOrigin(request: Request): void {
    const origin = request.headers.origin as string | undefined;
    if (origin !== undefined) {
      if (!this.originAllowed(origin, request.info.host))
        throw csrfError('the Origin header names another site');
      return;
    }
    const site = request.headers['sec-fetch-site'] as string | undefined;
    if (site !== undefined && site !== 'same-origin' && site !== 'none') {
      throw csrfError('Sec-Fetch-Site says the request comes from another site');
    }
  }

  crumb(sessionId: string): string {
    return createHmac('sha256', this.key).update(sessionId).digest('base64url');
  }

  checkCrumb(sessionId: string, presented: unknown): void {
    const expected = Buffer.from(this.crumb(sessionId));
    const given = typeof presented === 'string' ? Buffer.from(presented) : null;
    if (given === null || given.length !== expected.length || !timingSafeEqual(given, expected)) {
      throw csrfError('the form crumb is missing or wrong: reload the page and submit again');
    }
  }

  private originAllowed(origin: string, host: string): boolean {
    if (this.origins.has(origin)) return true;
    let url: URL;
    try {
      url = new URL(origin);
    } catch {
      return false; // includes the opaque origin "null" (sandboxed frames, file:)
    }
    if (this.secure && url.protocol !== 'https:') return false;
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.host === host;
  }
}

function csrfError(why: string): HoldfastError {
  return new HoldfastError('HF_CSRF', `cross-site request refused: ${why}`);
}

/** Methods that change state: every one of them on a Holdfast route is checked for CSRF. */
const STATE_CHANGING = new Set(['post', 'put', 'patch', 'delete']);

/** Route option that asks for the form crumb of a signed-in user (`plugins.holdfast.crumb`). */
export const CRUMB_ROUTE = { holdfast: { crumb: true } } as const;

/**
 * CSRF in the request pipeline, for this plugin's routes only (sandbox: 'plugin'): the Origin
 * check runs before authentication on every state-changing route, so a cross-site request cannot
 * even start a remember-me sign-in, and no handler can forget it; routes marked CRUMB_ROUTE also
 * check the crumb of the signed-in user once the session and the form are known.
 */
export function registerCsrf(server: Server, csrf: Csrf): void {
  server.ext(
    'onPreAuth',
    (r: Request, h: ResponseToolkit) => {
      if (STATE_CHANGING.has(r.method)) csrf.checkOrigin(r);
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
  server.ext(
    'onPreHandler',
    (r: Request, h: ResponseToolkit) => {
      const wants = (r.route.settings.plugins as { holdfast?: { crumb?: boolean } } | undefined)
        ?.holdfast?.crumb;
      if (wants && r.auth.isAuthenticated) {
        const c = r.auth.credentials as unknown as { session: { id: string } };
        csrf.checkCrumb(c.session.id, (r.payload as Record<string, unknown> | null)?.crumb);
      }
      return h.continue;
    },
    { sandbox: 'plugin' },
  );
}

/**
 * @hapi/crumb, when the app registers it, checks every POST (or, restful, every state-changing
 * request) for its own token and writes that token over a view's `crumb`. Holdfast's routes are
 * already protected by the Origin check and Holdfast's session-bound crumb above, and its JSON
 * API serves clients that never saw crumb's cookie, so each route this plugin adds says
 * `plugins.crumb: false`, the opt-out @hapi/crumb documents (ADR 085). The app's own routes are
 * untouched: crumb still guards them.
 */
export function exemptFromCrumb(server: Server): void {
  server.events.on('route', (route) => {
    if (route.realm.plugin !== 'holdfast') return;
    (route.settings.plugins as Record<string, unknown>).crumb = false;
  });
}
