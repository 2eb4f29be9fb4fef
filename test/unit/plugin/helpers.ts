import Hapi from '@hapi/hapi';
import { loadSettings, Settings } from '../../../src/config';
import type {
  AccountHooks,
  AccountService,
  AuthEvents,
  EmailVerification,
  SecurityNotifications,
} from '../../../src/accounts';
import type { Logger } from '../../../src/log/logger';
import { holdfastPlugin } from '../../../src/plugin';
import { createServices } from '../../../src/server/services';
import type { SessionService } from '../../../src/session';
import { MemoryEngine, StoreEngine } from '../../../src/store';
import type { AccountTokens, HashQueue, ThrottleStore, UserStore } from '../../../src/users';
import { canary, testLogger } from '../../harness/logs';

/** Passwords the API tests use: any of them in a log fails `make test`. */
canary('correct horse battery', 'wrong password!', 'another password', 'a new password!');

export interface TestApp {
  server: Hapi.Server;
  settings: Settings;
  sessions: SessionService;
  engine: StoreEngine;
  users: UserStore;
  accounts: AccountService;
  events: AuthEvents;
  /** The process's password hashing queue. */
  hashing: HashQueue;
  /** Settable clock used by the session service. */
  clock: { now: number };
  /** Email verification and security notices (null unless the settings turn mail on). */
  verification: EmailVerification | null;
  notifications: SecurityNotifications | null;
  /** The single-use account tokens (ADR 140). */
  tokens: AccountTokens;
}

export function testSettings(overrides: object = {}): Settings {
  return loadSettings({ env: { NODE_ENV: 'test' }, overrides });
}

/** A Hapi server with the Holdfast plugin on the given engine (memory by default). */
export async function buildTestApp(
  opts: {
    settings?: Settings;
    engine?: StoreEngine;
    users?: UserStore;
    throttle?: ThrottleStore;
    pages?: boolean;
    /** Register the plugin under this route prefix (`routes: { prefix }`). */
    prefix?: string;
    extra?: Partial<Parameters<typeof holdfastPlugin.register>[1]>;
    /** The host app's hooks, given to createServices. */
    hooks?: AccountHooks;
    /** The services' logger (a failed send is logged there). */
    logger?: Logger;
    /** Listen on this port (default: any free one). */
    port?: number;
  } = {},
): Promise<TestApp> {
  const settings = opts.settings ?? testSettings();
  const clock = { now: Date.now() };
  const engine = opts.engine ?? new MemoryEngine(settings.store.redis.shards, () => clock.now);
  const { sessions, users, accounts, events, hashing, verification, notifications, tokens } =
    createServices(settings, {
      engine,
      users: opts.users,
      throttle: opts.throttle,
      clock: () => clock.now,
      hooks: opts.hooks,
      logger: opts.logger,
    });
  const server = Hapi.server({ host: '127.0.0.1', port: opts.port ?? 0, debug: false });
  await server.register({
    plugin: holdfastPlugin,
    options: {
      settings,
      sessions,
      accounts,
      logger: testLogger(`unit-plugin-${process.env.JEST_WORKER_ID ?? '1'}`),
      pages: opts.pages ?? true,
      verification,
      ...opts.extra,
    },
    ...(opts.prefix ? { routes: { prefix: opts.prefix } } : {}),
  });
  server.route({
    method: 'GET',
    path: '/private',
    handler: (r) => ({
      userId: (r.auth.credentials as unknown as { user: { id: string } }).user.id,
    }),
  });
  await server.initialize();
  return {
    server,
    settings,
    sessions,
    engine,
    users,
    accounts,
    events,
    hashing,
    clock,
    verification,
    notifications,
    tokens,
  };
}

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
  const res = await server.inject({
    method,
    url,
    payload: payload as object,
    headers: h,
    remoteAddress: headers['x-test-ip'] ?? '127.0.0.1',
  });
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
