/**
 * An app with mail on, sending to a real SMTP server on loopback (test/support/smtp-server.ts):
 * createServices with mail.transport smtp, the plugin given services.passwordReset, the memory
 * store with a settable clock.
 */
import Hapi from '@hapi/hapi';
import { createServices, Services } from '../../../src/server/services';
import { MemoryEngine, StoreEngine } from '../../../src/store';
import { testLogger } from '../../harness/logs';
import type { TestSmtpServer } from '../../support/smtp-server';
import { holdfastPlugin } from '../../../src/plugin';
import { testSettings } from '../../support/app';

export const LINK_BASE = 'http://holdfast.test';
export const SAME_SITE = { origin: 'http://holdfast.test', host: 'holdfast.test' } as const;

export interface ResetApp {
  readonly server: Hapi.Server;
  readonly services: Services;
  readonly clock: { now: number };
  /** The log file the app writes (scanned for tokens by the tests and by make test). */
  readonly logName: string;
}

export async function buildResetApp(
  smtp: TestSmtpServer,
  overrides: {
    throttle?: object;
    tokens?: object;
    linkBase?: string;
    port?: number;
    /** Settings for a Redis store, and its started engine (integration tests). */
    store?: object;
    engine?: StoreEngine;
  } = {},
): Promise<ResetApp> {
  const settings = testSettings({
    mail: smtp.mailSettings(overrides.linkBase ?? LINK_BASE),
    // Most tests ask many times; the throttle's own test sets its limits.
    throttle: { resetPerAccount: 1000, resetPerAddress: 100000, ...overrides.throttle },
    ...(overrides.tokens ? { tokens: overrides.tokens } : {}),
    ...(overrides.store ? { store: overrides.store } : {}),
  });
  const clock = { now: Date.now() };
  const logName = `unit-reset-${process.env.JEST_WORKER_ID ?? '1'}`;
  const logger = testLogger(logName);
  const services = createServices(settings, {
    engine: overrides.engine ?? new MemoryEngine(settings.store.redis.shards, () => clock.now),
    clock: () => clock.now,
    logger,
  });
  const server = Hapi.server({ host: '127.0.0.1', port: overrides.port ?? 0, debug: false });
  await server.register({
    plugin: holdfastPlugin,
    options: {
      settings,
      sessions: services.sessions,
      accounts: services.accounts,
      passwordReset: services.passwordReset,
      logger,
    },
  });
  server.route({ method: 'GET', path: '/private', handler: () => 'private' });
  await server.initialize();
  return { server, services, clock, logName };
}
