/**
 * The demo's load balancer: round robin over the Holdfast nodes whose /health/ready answered 200
 * at the last poll (every 250 ms), like HAProxy's `option httpchk` in deploy/haproxy.cfg. No
 * retries: a request sent to a node that went away fails (502), so the demo test sees whether
 * readiness and the drain delay alone keep every request alive through a rolling restart.
 *   node -r ts-node/register/transpile-only scripts/demo/proxy.ts PORT NODE_PORT...
 */
import http from 'node:http';

const POLL_MS = 250;
const HOST = '127.0.0.1';

interface Backend {
  readonly port: number;
  ready: boolean;
}

export function startProxy(port: number, backendPorts: number[]): http.Server {
  const backends: Backend[] = backendPorts.map((p) => ({ port: p, ready: false }));
  let next = 0;

  const poll = () => {
    for (const b of backends) {
      const req = http.get(
        { host: HOST, port: b.port, path: '/health/ready', timeout: 1000, agent: false },
        (res) => {
          b.ready = res.statusCode === 200;
          res.resume();
        },
      );
      req.on('timeout', () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        b.ready = false;
      });
    }
  };
  poll();
  const timer = setInterval(poll, POLL_MS);

  const pick = (): Backend | undefined => {
    for (let i = 0; i < backends.length; i++) {
      const b = backends[(next + i) % backends.length];
      if (b.ready) {
        next = (next + i + 1) % backends.length;
        return b;
      }
    }
    return undefined;
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const b = pick();
      if (!b) {
        res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '1' });
        res.end('no ready Holdfast node\n');
        return;
      }
      const headers = { ...req.headers, 'x-forwarded-for': req.socket.remoteAddress ?? '' };
      // A fresh connection per request: a draining node closes idle keep-alive sockets.
      const up = http.request(
        { host: HOST, port: b.port, method: req.method, path: req.url, headers, agent: false },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
        res.end();
      });
      up.end(body);
    });
  });
  server.on('close', () => clearInterval(timer));
  server.listen(port, HOST);
  return server;
}

if (require.main === module) {
  const [port, ...nodes] = process.argv.slice(2).map(Number);
  const server = startProxy(port, nodes);
  process.on('SIGTERM', () => {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  });
}
