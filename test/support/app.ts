import Hapi from '@hapi/hapi';
import { loadSettings, Settings } from '../../src/config';
import type {
  AccountHooks,
  AccountService,
  AuthEvents,
  BreachedPasswordLookup,
  EmailVerification,
  SecurityNotifications,
} from '../../src/accounts';
import type { Logger } from '../../src/log/logger';
import { holdfastPlugin } from '../../src/plugin';
import { createServices } from '../../src/server/services';
import type { SessionService } from '../../src/session';
import { MemoryEngine, RedisEngine, StoreEngine } from '../../src/store';
import type { AccountTokens, HashQueue, ThrottleStore, UserStore } from '../../src/users';
import { canary, testLogger } from '../harness/logs';

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

export interface TestAppOptions {
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
  /** The host app's breach lookup, given to createServices (a test's step between two writes). */
  breachedPassword?: BreachedPasswordLookup;
  /** The services' logger (a failed send is logged there). */
  logger?: Logger;
  /** Listen on this port (default: any free one). */
  port?: number;
}

/** A Hapi server with the Holdfast plugin on the given engine (memory by default). */
export async function buildTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
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
      breachedPassword: opts.breachedPassword,
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

/** The test app on a Redis engine of its own; `stop` leaves the Redis under it to the caller. */
export interface RedisTestApp extends TestApp {
  engine: RedisEngine;
  /** Stops the server, then the engine (in that order: in-flight requests still reach Redis). */
  stop: () => Promise<void>;
}

/** Starts a RedisEngine on `settings.store.redis` and builds the test app on it. */
export async function buildRedisTestApp(
  settings: Settings,
  opts: Omit<TestAppOptions, 'settings' | 'engine'> = {},
): Promise<RedisTestApp> {
  const engine = new RedisEngine(settings.store.redis);
  await engine.start();
  let app: TestApp;
  try {
    app = await buildTestApp({ ...opts, settings, engine });
  } catch (err) {
    // The caller never gets the engine to stop: stop it here, or jest waits on its sockets.
    await engine.stop();
    throw err;
  }
  return {
    ...app,
    engine,
    stop: async () => {
      await app.server.stop();
      await engine.stop();
    },
  };
}
