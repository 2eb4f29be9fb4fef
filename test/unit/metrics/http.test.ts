import Hapi from '@hapi/hapi';
import http from 'node:http';
import { createMetrics, startMetricsServer } from '../../../src/metrics';
import { parseExposition, valueOf } from '../../support/exposition';

function request(port: number, method: string, path: string) {
  return new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: res.headers['content-type'] ?? '', body }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('metrics HTTP server', () => {
  it('answers GET /metrics only, in the Prometheus text format', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      scrape: () => metrics.scrape(),
    });
    try {
      const ok = await request(server.port, 'GET', '/metrics');
      expect(ok.status).toBe(200);
      expect(ok.type).toContain('text/plain; version=0.0.4');
      expect(valueOf(parseExposition(ok.body), 'holdfast_workers')).toBe(1);
      expect((await request(server.port, 'HEAD', '/metrics')).status).toBe(200);
      expect((await request(server.port, 'GET', '/')).status).toBe(404);
      expect((await request(server.port, 'GET', '/auth/login')).status).toBe(404);
      expect((await request(server.port, 'POST', '/metrics')).status).toBe(405);
    } finally {
      await server.close();
    }
  });

  it('answers 500 without detail when a scrape fails, and tells the caller why', async () => {
    const seen: unknown[] = [];
    const server = await startMetricsServer({
      host: '127.0.0.1',
      port: 0,
      scrape: () => Promise.reject(new Error('registry broke')),
      onError: (err) => seen.push(err),
    });
    try {
      const res = await request(server.port, 'GET', '/metrics');
      expect(res.status).toBe(500);
      expect(res.body).not.toContain('registry broke');
      expect(seen).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe('auth route latency', () => {
  it('times Holdfast routes by template, method and status class, and nothing else', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    metrics.observeServer(server);
    server.route([
      { method: 'POST', path: '/auth/login', handler: (_r, h) => h.response({}).code(200) },
      { method: 'DELETE', path: '/auth/sessions/{id}', handler: (_r, h) => h.response().code(204) },
      { method: 'GET', path: '/auth/me', handler: () => Promise.reject(new Error('boom')) },
      { method: 'GET', path: '/app/home', handler: () => 'not ours' },
    ]);
    await server.start();
    try {
      const port = Number(server.info.port);
      await request(port, 'POST', '/auth/login');
      await request(port, 'DELETE', '/auth/sessions/AAAAAAAAAAAAAAAAAAAAAA');
      await request(port, 'DELETE', '/auth/sessions/BBBBBBBBBBBBBBBBBBBBBB');
      await request(port, 'GET', '/auth/me');
      await request(port, 'GET', '/app/home');
      const text = await metrics.scrape();
      const exp = parseExposition(text);
      const count = (route: string, method: string, status_class: string) =>
        valueOf(exp, 'holdfast_http_request_duration_seconds_count', {
          route,
          method,
          status_class,
        });
      expect(count('/auth/login', 'POST', '2xx')).toBe(1);
      expect(count('/auth/sessions/{id}', 'DELETE', '2xx')).toBe(2);
      expect(count('/auth/me', 'GET', '5xx')).toBe(1);
      expect(text).not.toContain('/app/home');
      expect(text).not.toContain('AAAAAAAAAAAAAAAAAAAAAA');
    } finally {
      await server.stop();
    }
  });
});

describe('auth route latency values', () => {
  const DELAY_MS = 40;

  async function timedServer() {
    const metrics = createMetrics({ defaultMetrics: false });
    const server = Hapi.server({ host: '127.0.0.1', port: 0 });
    metrics.observeServer(server);
    server.route({
      method: 'GET',
      path: '/auth/me',
      handler: async () => {
        await new Promise((resolve) => setTimeout(resolve, DELAY_MS));
        return {};
      },
    });
    const sum = async () =>
      valueOf(
        parseExposition(await metrics.scrape()),
        'holdfast_http_request_duration_seconds_sum',
        {
          route: '/auth/me',
          method: 'GET',
          status_class: '2xx',
        },
      );
    return { server, sum };
  }

  it('times a request over a socket from its arrival to its answer, in seconds', async () => {
    const { server, sum } = await timedServer();
    await server.start();
    try {
      expect((await request(Number(server.info.port), 'GET', '/auth/me')).status).toBe(200);
      const seconds = await sum();
      expect(seconds).toBeGreaterThanOrEqual((DELAY_MS - 1) / 1000);
      expect(seconds).toBeLessThan(2);
      // The socket's clock (not Hapi's millisecond one): not a whole number of milliseconds.
      expect((seconds * 1000) % 1).not.toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('times a request made with server.inject (no socket) too', async () => {
    const { server, sum } = await timedServer();
    expect((await server.inject('/auth/me')).statusCode).toBe(200);
    const seconds = await sum();
    expect(seconds).toBeGreaterThanOrEqual((DELAY_MS - 1) / 1000);
    expect(seconds).toBeLessThan(2);
  });
});
