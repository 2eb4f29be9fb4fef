import Hapi, { Server } from '@hapi/hapi';
import { loadSettings } from '../../../src/config';
import { holdfastHealth } from '../../../src/health';
import { createServices, RunningNode, startNode } from '../../../src/server';
import { createLogger } from '../../../src/log/logger';
import { MemoryEngine } from '../../../src/store';

/**
 * Library mode: holdfastHealth on an app's own server, with the services of createServices,
 * answers what a `holdfast start` worker answers, through the same store check and readiness.
 */
const settings = loadSettings({
  env: { HOLDFAST_ENV: 'test', HOLDFAST_HTTP__HOST: '127.0.0.1', HOLDFAST_HTTP__PORT: '0' },
});

async function get(server: Server, path: string) {
  const res = await server.inject(path);
  return { status: res.statusCode, body: JSON.parse(res.payload) as Record<string, unknown> };
}

describe('holdfastHealth in an app server', () => {
  it('is not ready before start, ready once listening, not ready when stopping', async () => {
    const services = createServices(settings);
    await services.store.start();
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register({ plugin: holdfastHealth, options: { services } });
    const { readiness } = server.plugins['holdfast-health']!;

    expect(await get(server, '/health/live')).toMatchObject({
      status: 200,
      body: { status: 'live' },
    });
    expect(await get(server, '/health/ready')).toMatchObject({
      status: 503,
      body: { ready: false, reasons: ['not listening yet', 'store not checked yet'] },
    });

    await server.start();
    expect(await get(server, '/health/ready')).toEqual({
      status: 200,
      body: {
        status: 'ready',
        ready: true,
        listening: true,
        draining: false,
        store: 'up',
        reasons: [],
        pid: process.pid,
      },
    });

    // The same expiry sweeper as a worker's (ADR 230), started with the server, stopped after it.
    const { sweeper } = server.plugins['holdfast-health']!;
    expect(sweeper).toBeDefined();
    await sweeper!.tick();
    expect(sweeper!.stats).toMatchObject({ holding: true, failures: 0 });

    await server.stop();
    expect(readiness.state).toMatchObject({ ready: false, draining: true });
    expect(sweeper!.stats.holding).toBe(false);
    await services.store.stop();
  });

  it('follows the store: 503 with the reason while the engine does not answer, 200 again after', async () => {
    const engine = new MemoryEngine(settings.store.redis.shards);
    let down = false;
    const ping = engine.ping.bind(engine);
    engine.ping = () => (down ? Promise.reject(new Error('connect ECONNREFUSED')) : ping());
    const services = createServices(settings, { engine });
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register({ plugin: holdfastHealth, options: { services, intervalMs: 20 } });
    const { storeHealth } = server.plugins['holdfast-health']!;
    await server.start();
    try {
      down = true;
      await storeHealth.check();
      expect(await get(server, '/health/ready')).toMatchObject({
        status: 503,
        body: { store: 'down', reasons: ['store unreachable: connect ECONNREFUSED'] },
      });
      down = false;
      await storeHealth.check();
      expect((await get(server, '/health/ready')).status).toBe(200);
    } finally {
      await server.stop();
    }
  });

  it('answers the same documents as a `holdfast start` worker', async () => {
    const node: RunningNode = await startNode(settings, { logger: createLogger('silent') });
    const services = createServices(settings);
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    await server.register({ plugin: holdfastHealth, options: { services } });
    await server.start();
    try {
      for (const path of ['/health/live', '/health/ready']) {
        const standalone = await fetch(`${node.server.info.uri}${path}`);
        const library = await fetch(`${server.info.uri}${path}`);
        expect(library.status).toBe(standalone.status);
        expect(library.headers.get('cache-control')).toBe(standalone.headers.get('cache-control'));
        expect(await library.json()).toEqual(await standalone.json());
      }
    } finally {
      await server.stop();
      await node.shutdown('test over');
    }
  });
});
