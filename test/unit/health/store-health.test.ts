import Hapi from '@hapi/hapi';
import { healthRoutes, Readiness, StoreHealth, StoreHealthStatus } from '../../../src/health';

/**
 * The store is stood in for by its ping function (what SessionEngine.ping is to the monitor): a
 * plain async function whose answer the test controls. Real outages are in the e2e tests.
 */
function controllablePing() {
  const state = { up: true, hang: false, calls: 0 };
  const ping = async (): Promise<void> => {
    state.calls++;
    if (state.hang) return new Promise(() => undefined);
    if (!state.up) throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
  };
  return { state, ping };
}

describe('StoreHealth', () => {
  test('first check decides the state; later checks report changes once each', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({ ping, intervalMs: 60_000 });
    const changes: StoreHealthStatus[] = [];
    health.on('change', (s) => changes.push(s));
    expect(health.status.state).toBe('unknown');
    expect((await health.start()).state).toBe('up');
    state.up = false;
    await health.check();
    await health.check();
    state.up = true;
    await health.check();
    health.stop();
    expect(changes.map((c) => c.state)).toEqual(['up', 'down', 'up']);
    expect(health.status).toMatchObject({ up: true, failures: 0, lastError: undefined });
  });

  test('a failed check keeps the reason and counts consecutive failures', async () => {
    const { state, ping } = controllablePing();
    state.up = false;
    const health = new StoreHealth({ ping, intervalMs: 60_000 });
    await health.check();
    const s = await health.check();
    expect(s).toMatchObject({
      state: 'down',
      up: false,
      failures: 2,
      lastError: 'connect ECONNREFUSED 127.0.0.1:6379',
    });
  });

  test('a ping that never answers counts as down after the timeout', async () => {
    const { state, ping } = controllablePing();
    state.hang = true;
    const health = new StoreHealth({ ping, intervalMs: 60_000, timeoutMs: 50 });
    const s = await health.check();
    expect(s.state).toBe('down');
    expect(s.lastError).toBe('no answer within 50 ms');
  });

  test('concurrent checks share one ping', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({ ping, intervalMs: 60_000 });
    await Promise.all([health.check(), health.check(), health.check()]);
    expect(state.calls).toBe(1);
  });

  test('keeps checking on its own until stopped', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({ ping, intervalMs: 10 });
    await health.start();
    const down = new Promise<StoreHealthStatus>((resolve) => health.once('change', resolve));
    state.up = false;
    expect((await down).state).toBe('down');
    health.stop();
    const calls = state.calls;
    await new Promise((r) => setTimeout(r, 50));
    expect(state.calls).toBeLessThanOrEqual(calls + 1);
  });

  test('details are asked only while up and passed along', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({
      ping,
      intervalMs: 60_000,
      detailsEveryMs: 0,
      details: async () => ({ clusterOk: true, masters: 3, replicasOnline: 3 }),
    });
    expect((await health.check()).details).toEqual({
      clusterOk: true,
      masters: 3,
      replicasOnline: 3,
    });
    state.up = false;
    expect((await health.check()).details).toBeUndefined();
  });
});

describe('Readiness', () => {
  test('ready only when listening, not draining and the store is up', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({ ping, intervalMs: 60_000 });
    const readiness = new Readiness(health);
    const seen: boolean[] = [];
    readiness.on('change', (s) => seen.push(s.ready));
    expect(readiness.state.reasons).toEqual(['not listening yet', 'store not checked yet']);
    await health.check();
    readiness.setListening(true);
    expect(readiness.ready).toBe(true);
    state.up = false;
    await health.check();
    expect(readiness.state).toMatchObject({
      ready: false,
      store: 'down',
      reasons: ['store unreachable: connect ECONNREFUSED 127.0.0.1:6379'],
    });
    state.up = true;
    await health.check();
    readiness.startDraining();
    expect(readiness.state).toMatchObject({
      ready: false,
      draining: true,
      reasons: ['draining: shutting down'],
    });
    // Draining is for good: the store coming and going does not make it ready again.
    await health.check();
    expect(readiness.ready).toBe(false);
    expect(seen).toEqual([true, false, true, false]);
  });
});

describe('health routes', () => {
  test('/health/live is 200 always; /health/ready is 200 or 503 with reasons; no auth needed', async () => {
    const { state, ping } = controllablePing();
    const health = new StoreHealth({ ping, intervalMs: 60_000 });
    const readiness = new Readiness(health);
    const server = Hapi.server();
    // A default strategy that refuses everything proves the routes opt out of auth.
    server.auth.scheme('deny', () => ({
      authenticate: (_r, h) => h.unauthenticated(new Error('no')),
    }));
    server.auth.strategy('deny', 'deny');
    server.auth.default('deny');
    await server.register({ plugin: healthRoutes, options: { readiness } });

    const live = await server.inject('/health/live');
    expect(live.statusCode).toBe(200);
    expect(JSON.parse(live.payload)).toMatchObject({ status: 'live' });
    expect(live.headers['cache-control']).toBe('no-store');

    await health.check();
    readiness.setListening(true);
    const ready = await server.inject('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(JSON.parse(ready.payload)).toMatchObject({ status: 'ready', ready: true, reasons: [] });

    state.up = false;
    await health.check();
    const down = await server.inject('/health/ready');
    expect(down.statusCode).toBe(503);
    expect(JSON.parse(down.payload)).toMatchObject({ status: 'not ready', store: 'down' });
    expect((await server.inject('/health/live')).statusCode).toBe(200);
  });
});
