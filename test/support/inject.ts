import Hapi from '@hapi/hapi';

/** Requests as one browser sends them through server.inject: a cookie jar, and error answers read. */

/** The cookie jar of one browser: remembers Set-Cookie values and replays them. */
export class Jar {
  readonly cookies = new Map<string, string>();

  header(): string | undefined {
    if (!this.cookies.size) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  take(res: { headers: Record<string, unknown> }): void {
    const raw = res.headers['set-cookie'];
    const list = Array.isArray(raw) ? (raw as string[]) : raw ? [String(raw)] : [];
    for (const c of list) {
      const [pair, ...attrs] = c.split(';');
      const i = pair.indexOf('=');
      const name = pair.slice(0, i).trim();
      const value = pair.slice(i + 1).trim();
      const expired = attrs.some(
        (a) => /max-age=0\b/i.test(a.trim()) || /expires=Thu, 01 Jan 1970/i.test(a.trim()),
      );
      if (!value || expired) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  clone(): Jar {
    const j = new Jar();
    for (const [k, v] of this.cookies) j.cookies.set(k, v);
    return j;
  }
}

/** server.inject with a jar: sends its cookies, keeps what the server sets. */
export async function call(
  server: Hapi.Server,
  jar: Jar | null,
  method: string,
  url: string,
  payload?: unknown,
  headers: Record<string, string> = {},
) {
  const h: Record<string, string> = { ...headers };
  const cookie = jar?.header();
  if (cookie && !h.cookie) h.cookie = cookie;
  // Injected from a microtask of its own: hapi runs onRequest synchronously inside inject(), and
  // the plugin's per-request scopes (AsyncLocalStorage.enterWith) would otherwise stay with the
  // test's own code after it (a server's HTTP callbacks never share a context that way).
  const res = await Promise.resolve().then(() =>
    server.inject({
      method,
      url,
      payload: payload as object,
      headers: h,
      remoteAddress: headers['x-test-ip'] ?? '127.0.0.1',
    }),
  );
  jar?.take(res);
  return res;
}

/**
 * The code and message of an error answer: the JSON body of an API route, or the HTML error page
 * of a page route (pages answer pages, not JSON).
 */
export function errorOf(res: { payload: string; headers: Record<string, unknown> }): {
  code?: string;
  message?: string;
} {
  if (!String(res.headers['content-type']).startsWith('text/html')) return JSON.parse(res.payload);
  const unescape = (s: string) =>
    s
      .replace(/&#x27;/g, "'")
      .replace(/&quot;/g, '"')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&#x3D;/g, '=')
      .replace(/&#x60;/g, '`')
      .replace(/&amp;/g, '&');
  const code = /<code id='error-code'>([^<]*)<\/code>/.exec(res.payload)?.[1];
  const message = /<p class='error' role='alert'>([^<]*)<\/p>/.exec(res.payload)?.[1];
  return { code, message: message === undefined ? undefined : unescape(message) };
}

/**
 * Registers `email` through the JSON API, then logs in from a new jar (with remember-me when
 * asked); the login must answer 200. Returns that jar and the user's id.
 */
export async function registerAndLogIn(
  server: Hapi.Server,
  email: string,
  password: string,
  remember = false,
): Promise<{ jar: Jar; userId: string }> {
  await call(server, null, 'POST', '/auth/register', { email, password });
  const jar = new Jar();
  const r = await call(server, jar, 'POST', '/auth/login', { email, password, remember });
  expect(r.statusCode).toBe(200);
  return { jar, userId: JSON.parse(r.payload).user.id as string };
}
