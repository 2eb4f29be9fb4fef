import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Registry } from 'prom-client';

export interface MetricsServerOptions {
  /** settings.metrics.host / .port. Never the public http port: the server is separate by design. */
  readonly host: string;
  readonly port: number;
  /** Builds one scrape: a single registry's output, or the primary's aggregate of its workers. */
  readonly scrape: () => Promise<string>;
  readonly contentType?: string;
  /** Told about scrapes that failed (the scraper gets a 500 with no detail). */
  readonly onError?: (err: unknown) => void;
}

export interface MetricsServer {
  /** The bound port (useful with port 0). */
  readonly port: number;
  close(): Promise<void>;
}

/**
 * A bare node:http server answering GET (and HEAD) /metrics and nothing else. It has no Hapi, no
 * auth and no cookies: it exposes counts only, so it binds where only scrapers reach it.
 */
export function startMetricsServer(opts: MetricsServerOptions): Promise<MetricsServer> {
  const contentType = opts.contentType ?? Registry.PROMETHEUS_CONTENT_TYPE;
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: only /metrics\n');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end();
      return;
    }
    opts.scrape().then(
      (body) => {
        res.writeHead(200, { 'content-type': contentType });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      (err: unknown) => {
        opts.onError?.(err);
        res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n');
      },
    );
  });
  // Scrapers keep connections alive; a shutdown must not wait for them.
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: opts.host, port: opts.port }, () => {
      server.off('error', reject);
      resolve({
        port: (server.address() as AddressInfo).port,
        close: () =>
          new Promise<void>((done) => {
            server.closeAllConnections();
            server.close(() => done());
          }),
      });
    });
  });
}
