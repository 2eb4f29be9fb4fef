import Hapi from '@hapi/hapi';
import { loadSettings } from '../../../src/config';
import { holdfastHealth } from '../../../src/health';
import { createLogger } from '../../../src/log/logger';
import { createMetrics, holdfastMetrics } from '../../../src/metrics';
import { holdfastPlugin } from '../../../src/plugin';
import { createServices, startNode } from '../../../src/server';
import { documentedMetrics } from '../../support/metrics-docs';
import { parseExposition, valueOf } from '../../support/exposition';

/**
 * Library mode: holdfastMetrics on an app's own server serves what a `holdfast start` worker
 * exports (docs/metrics.md), from the same registry, counters and health figures.
 */
const settings = loadSettings({
  env: { HOLDFAST_ENV: 'test', HOLDFAST_HTTP__HOST: '127.0.0.1', HOLDFAST_HTTP__PORT: '0' },
});

function families(text: string): Set<string> {
  return new Set(parseExposition(text).types.keys());
}

async function appServer() {
  const services = createServices(settings, { metrics: createMetrics() });
  await services.store.start();
  const server = Hapi.server({ host: '127.0.0.1', port: 0 });
  await server.register([
    { plugin: holdfastMetrics, options: { services } },
    { plugin: holdfastHealth, options: { services } },
    {
      plugin: holdfastPlugin,
      options: { settings, sessions: services.sessions, accounts: services.accounts },
    },
  ]);
  await server.start();
  return { server, services };
}

describe('holdfastMetrics in an app server', () => {
  it('serves /metrics with sessions, logins, store timings, store health and readiness', async () => {
    const { server, services } = await appServer();
    try {
      const reg = await server.inject({
        method: 'POST',
        url: '/auth/register',
        payload: { email: 'metrics@example.org', password: 'correct horse battery staple' },
      });
      expect(reg.statusCode).toBe(201);
      const failed = await server.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { email: 'metrics@example.org', password: 'not the password at all' },
      });
      expect(failed.statusCode).toBe(401);

      const res = await server.inject('/metrics');
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
      const exp = parseExposition(res.payload);
      expect(valueOf(exp, 'holdfast_sessions_created_total', { method: 'password' })).toBe(1);
      expect(valueOf(exp, 'holdfast_sessions_active')).toBe(1);
      expect(valueOf(exp, 'holdfast_users_active')).toBe(1);
      expect(valueOf(exp, 'holdfast_logins_failed_total', { reason: 'wrong_password' })).toBe(1);
      expect(
        valueOf(exp, 'holdfast_store_operation_duration_seconds_count', {
          operation: 'create',
          outcome: 'ok',
        }),
      ).toBe(1);
      expect(
        valueOf(exp, 'holdfast_http_request_duration_seconds_count', {
          route: '/auth/register',
          method: 'POST',
          status_class: '2xx',
        }),
      ).toBe(1);
      expect(valueOf(exp, 'holdfast_store_up')).toBe(1);
      expect(valueOf(exp, 'holdfast_store_masters')).toBe(1);
      expect(valueOf(exp, 'holdfast_store_replicas_required')).toBe(0);
      expect(valueOf(exp, 'holdfast_ready')).toBe(1);
      expect(services.metrics).toBeDefined();
    } finally {
      await server.stop();
    }
  });

  it('exports the same metric families as a `holdfast start` worker, each in docs/metrics.md', async () => {
    const node = await startNode(
      loadSettings({
        env: {
          HOLDFAST_ENV: 'test',
          HOLDFAST_HTTP__HOST: '127.0.0.1',
          HOLDFAST_HTTP__PORT: '0',
          HOLDFAST_METRICS__ENABLED: 'true',
        },
      }),
      { logger: createLogger('silent') },
    );
    const { server } = await appServer();
    try {
      const standalone = families(await node.metrics!.scrape());
      const library = families((await server.inject('/metrics')).payload);
      expect([...library].sort()).toEqual([...standalone].sort());
      const documented = documentedMetrics();
      const ours = [...library].filter(
        (n) => !n.startsWith('holdfast_process_') && !n.startsWith('holdfast_nodejs_'),
      );
      expect(ours.filter((n) => !documented.has(n))).toEqual([]);
    } finally {
      await server.stop();
      await node.shutdown('test over');
    }
  });

  it('refuses services built without metrics, saying how to build them', async () => {
    const services = createServices(settings);
    await expect(
      Hapi.server().register({ plugin: holdfastMetrics, options: { services } }),
    ).rejects.toMatchObject({
      code: 'HF_PLUGIN_OPTIONS',
      message: expect.stringContaining('createServices(settings, { metrics: createMetrics() })'),
    });
  });
});
