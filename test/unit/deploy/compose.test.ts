import Hapi from '@hapi/hapi';
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { main } from '../../../src/cli/main';
import { DEFAULTS, parseDuration } from '../../../src/config';
import { healthRoutes, Readiness, StoreHealth } from '../../../src/health';

/**
 * deploy/Dockerfile, deploy/compose.yaml and deploy/haproxy.cfg, checked against the code: no
 * Docker engine exists on these machines, so the files are parsed and every image, port, env
 * name and health path is compared with what the server and the settings loader really do.
 */
const ROOT = path.resolve(__dirname, '../../..');
const read = (p: string) => fs.readFileSync(path.join(ROOT, p), 'utf8');

interface Stage {
  from: string;
  name?: string;
  lines: { op: string; args: string }[];
}

/** Dockerfile instructions by stage (continuation lines joined, comments dropped). */
function parseDockerfile(text: string): Stage[] {
  const joined = text
    .split('\n')
    .filter((l) => !/^\s*#/.test(l))
    .join('\n')
    .replace(/\\\n/g, ' ');
  const stages: Stage[] = [];
  for (const line of joined.split('\n')) {
    const m = /^\s*([A-Z]+)\s+(.*)$/.exec(line);
    if (!m) continue;
    const [, op, args] = m;
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(args)!;
      stages.push({ from: f[1], name: f[2], lines: [] });
    } else if (stages.length > 0) stages[stages.length - 1].lines.push({ op, args: args.trim() });
  }
  return stages;
}

const stages = parseDockerfile(read('deploy/Dockerfile'));
const final = stages[stages.length - 1];
const ops = (s: Stage, op: string) => s.lines.filter((l) => l.op === op).map((l) => l.args);

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  ports?: string[];
  volumes?: string[];
  networks?: string[] | Record<string, { ipv4_address?: string }>;
  stop_grace_period?: string;
  read_only?: boolean;
}
const compose = YAML.parse(read('deploy/compose.yaml'), { merge: true }) as {
  services: Record<string, Service>;
};
const services = compose.services;
const named = (prefix: string) =>
  Object.keys(services)
    .filter((n) => new RegExp(`^${prefix}-\\d+$`).test(n))
    .sort();

/** The paths the server's health plugin really serves. */
async function servedHealthPaths(): Promise<string[]> {
  const server = Hapi.server();
  const readiness = new Readiness(new StoreHealth({ ping: async () => {}, intervalMs: 60_000 }));
  await server.register({ plugin: healthRoutes, options: { readiness } });
  return server.table().map((r) => r.path);
}

describe('deploy/Dockerfile', () => {
  test('multi-stage, on a pinned Node base, with a non-root numeric user in the final stage', () => {
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const s of stages) expect(s.from).toMatch(/^node:\$\{NODE_VERSION\}-bookworm-slim$/);
    // The image runs a supported Node line (package.json engines: 22.12+ or 24+).
    const major = Number(/^ARG NODE_VERSION=(\d+)$/m.exec(read('deploy/Dockerfile'))?.[1]);
    expect(major === 22 || major >= 24).toBe(true);
    const user = ops(final, 'USER');
    expect(user).toHaveLength(1);
    expect(Number(user[0].split(':')[0])).toBeGreaterThan(0);
  });

  test('only production dependencies reach the final stage', () => {
    const copies = ops(final, 'COPY');
    const modules = copies.find((c) => /node_modules/.test(c));
    const from = /--from=(\S+)/.exec(modules ?? '')?.[1];
    const source = stages.find((s) => s.name === from);
    expect(source).toBeDefined();
    expect(ops(source!, 'RUN').join(' ')).toMatch(/npm ci --omit=dev/);
    expect(ops(final, 'RUN').join(' ')).not.toMatch(/npm (ci|install)/);
    // The compiled code comes from the build stage; no source or compiler in the final image.
    expect(copies.some((c) => /--from=build\s+\S*dist/.test(c))).toBe(true);
    expect(copies.filter((c) => !c.startsWith('--from=')).some((c) => /\bsrc\//.test(c))).toBe(
      false,
    );
  });

  test('entrypoint is `holdfast start`, the package bin the image links', () => {
    expect(JSON.parse(ops(final, 'ENTRYPOINT')[0])).toEqual(['holdfast']);
    expect(JSON.parse(ops(final, 'CMD')[0])).toEqual(['start']);
    const bin = (JSON.parse(read('package.json')) as { bin: { holdfast: string } }).bin.holdfast;
    expect(ops(final, 'RUN').join(' ')).toContain(`ln -s /app/${bin} /usr/local/bin/holdfast`);
  });

  test('HEALTHCHECK asks /health/live on http.port, a path the server serves', async () => {
    const check = ops(final, 'HEALTHCHECK')[0];
    const probe = /\/health\/[a-z]+/.exec(check)?.[0];
    expect(probe).toBe('/health/live');
    expect(await servedHealthPaths()).toContain(probe);
    expect(check).toContain(`|| ${DEFAULTS.http.port})`);
    expect(check).toContain('HOLDFAST_HTTP__PORT');
  });

  test('EXPOSE lists http.port and metrics.port', () => {
    expect(ops(final, 'EXPOSE')[0].split(/\s+/).map(Number)).toEqual([
      DEFAULTS.http.port,
      DEFAULTS.metrics.port,
    ]);
  });
});

describe('deploy/compose.yaml', () => {
  test('every image is pinned to a version, never latest', () => {
    for (const [name, s] of Object.entries(services)) {
      expect({ name, image: s.image }).toEqual({ name, image: expect.stringMatching(/:[0-9a-z.]+$/) });
      expect(s.image).not.toMatch(/:latest$/);
    }
  });

  test('six Redis nodes with cluster mode and AOF, formed into 3 masters + 3 replicas once', () => {
    const redis = named('redis');
    expect(redis).toHaveLength(6);
    const addresses: string[] = [];
    for (const n of redis) {
      const cmd = services[n].command!.join(' ');
      expect(cmd).toMatch(/--cluster-enabled yes/);
      expect(cmd).toMatch(/--appendonly yes/);
      expect(cmd).toMatch(/--maxmemory-policy noeviction/);
      expect(cmd).toMatch(/--cluster-require-full-coverage no/);
      const net = services[n].networks as Record<string, { ipv4_address: string }>;
      addresses.push(`${net.holdfast.ipv4_address}:6379`);
    }
    const init = services['redis-cluster-init'].entrypoint!.join(' ');
    expect(init).toContain(`--cluster create ${addresses.join(' ')} --cluster-replicas 1`);
    // Idempotent: a cluster with slots assigned is not created again.
    expect(init).toMatch(/cluster_slots_assigned/);
  });

  test('three Holdfast nodes built from deploy/Dockerfile whose settings `holdfast config check` accepts', async () => {
    const nodes = named('holdfast');
    expect(nodes).toHaveLength(3);
    for (const n of nodes) {
      const s = services[n];
      expect(s.build).toEqual({ context: '..', dockerfile: 'deploy/Dockerfile' });
      expect(s.read_only).toBe(true);
      const env = { ...s.environment! };
      // Compose interpolation (${VAR:?...}) stands for a secret given at `up` time.
      for (const [k, v] of Object.entries(env)) {
        if (String(v).startsWith('${')) env[k] = 'a-compose-interpolated-secret-of-40-chars!!';
      }
      const err: string[] = [];
      const code = await main(['config', 'check'], { env, out: () => {}, err: (l) => err.push(l) });
      expect({ n, code, err }).toEqual({ n, code: 0, err: [] });
      // The seed nodes are the Redis services.
      const seeds = env.HOLDFAST_STORE__REDIS__NODES.split(',').map((a) => a.split(':')[0]);
      expect(seeds.sort()).toEqual(named('redis'));
      const grace = parseDuration(s.stop_grace_period!)!;
      expect(grace).toBeGreaterThanOrEqual(
        parseDuration(env.HOLDFAST_SHUTDOWN__DRAIN_DELAY)! +
          parseDuration(env.HOLDFAST_SHUTDOWN__TIMEOUT)! +
          2000,
      );
    }
  });

  test('the proxy round-robins over the Holdfast nodes and sends only to ready ones', async () => {
    expect(services.proxy.volumes).toContain('./haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro');
    const cfg = read('deploy/haproxy.cfg');
    const check = /option httpchk GET (\S+)/.exec(cfg)?.[1];
    expect(check).toBe('/health/ready');
    expect(await servedHealthPaths()).toContain(check);
    expect(cfg).toMatch(/http-check expect status 200/);
    expect(cfg).toMatch(/balance roundrobin/);
    const port = services['holdfast-1'].environment!.HOLDFAST_HTTP__PORT;
    const servers = [...cfg.matchAll(/^\s*server (\S+) (\S+) check$/gm)].map((m) => m[2]);
    expect(servers).toEqual(named('holdfast').map((n) => `${n}:${port}`));
    const bind = /bind :(\d+)/.exec(cfg)?.[1];
    expect(services.proxy.ports).toEqual([`${bind}:${bind}`]);
  });

  test('Prometheus scrapes every node on metrics.port and loads the rules', () => {
    expect(services.prometheus.volumes).toContain('./prometheus:/etc/prometheus:ro');
    const prom = YAML.parse(read('deploy/prometheus/prometheus.yml')) as {
      rule_files: string[];
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    expect(prom.rule_files).toEqual(['holdfast.rules.yml']);
    expect(fs.existsSync(path.join(ROOT, 'deploy/prometheus/holdfast.rules.yml'))).toBe(true);
    const port = services['holdfast-1'].environment!.HOLDFAST_METRICS__PORT;
    expect(prom.scrape_configs[0].static_configs[0].targets).toEqual(
      named('holdfast').map((n) => `${n}:${port}`),
    );
  });

  test('Grafana is provisioned with the datasource and the dashboards', () => {
    const volumes = services.grafana.volumes!;
    expect(volumes).toContain('../grafana/provisioning:/etc/grafana/provisioning:ro');
    const provider = YAML.parse(read('grafana/provisioning/dashboards/holdfast.yaml')) as {
      providers: { options: { path: string } }[];
    };
    expect(volumes).toContain(`../grafana/dashboards:${provider.providers[0].options.path}:ro`);
    const ds = YAML.parse(read('grafana/provisioning/datasources/holdfast.yaml')) as {
      datasources: { url: string }[];
    };
    expect(new URL(ds.datasources[0].url).hostname).toBe('prometheus');
    expect(services.prometheus).toBeDefined();
  });
});
