import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { main } from '../../../src/cli/main';
import { loadSettings, parseDuration } from '../../../src/config';
import { createLogger } from '../../../src/log/logger';
import { RunningNode, startNode } from '../../../src/server';

/**
 * The chart, checked with the real helm binary (scripts/install-helm.sh puts it in .tools/bin;
 * `make test` runs that script first): lint, render the defaults and every example, validate
 * every rendered object against the Kubernetes API schemas (kubernetes-models), and compute from
 * the rendered manifests what a rolling restart without logouts depends on.
 */
const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const CHART = path.join(ROOT, 'helm/holdfast');
const HELM = path.join(ROOT, '.tools/bin/helm');
const EXAMPLES = fs
  .readdirSync(path.join(CHART, 'examples'))
  .filter((f) => f.endsWith('.yaml'))
  .sort();

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [key: string]: unknown;
}
// Only the fields the checks read; the whole object is validated by kubernetes-models.
interface Probe {
  httpGet?: { path: string; port: string | number };
  periodSeconds?: number;
  failureThreshold?: number;
}
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    resourceFieldRef?: { resource: string; divisor?: string };
  };
}
interface Container {
  name: string;
  ports?: { name: string; containerPort: number }[];
  env?: EnvVar[];
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command: string[] } } };
  resources?: { limits?: { cpu?: string | number } };
  securityContext?: Record<string, unknown>;
}
interface PodSpec {
  terminationGracePeriodSeconds?: number;
  securityContext?: Record<string, unknown>;
  topologySpreadConstraints?: { topologyKey: string }[];
  containers: Container[];
}
interface Deployment extends K8sObject {
  spec: {
    replicas?: number;
    strategy: { type: string; rollingUpdate?: { maxUnavailable?: number | string } };
    template: { metadata: { annotations: Record<string, string> }; spec: PodSpec };
  };
}

async function helm(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!fs.existsSync(HELM)) {
    throw new Error(`${HELM} is missing: run scripts/install-helm.sh (make test does)`);
  }
  try {
    const { stdout, stderr } = await execFileP(HELM, args, { maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: e.code ?? 1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

async function render(valueArgs: string[] = []): Promise<K8sObject[]> {
  const r = await helm(['template', 'hf', CHART, '--namespace', 'auth', ...valueArgs]);
  if (r.code !== 0) throw new Error(`helm template ${valueArgs.join(' ')} failed:\n${r.stderr}`);
  return YAML.parseAllDocuments(r.stdout)
    .map((d) => d.toJS() as K8sObject | null)
    .filter((d): d is K8sObject => d !== null);
}

const CASES: [string, string[]][] = [
  ['defaults', []],
  ...EXAMPLES.map((f): [string, string[]] => [f, ['-f', path.join(CHART, 'examples', f)]]),
];
const rendered = new Map<string, K8sObject[]>();

function find<T extends K8sObject>(objects: K8sObject[], kind: string, suffix = ''): T {
  const hits = objects.filter((o) => o.kind === kind && o.metadata.name.endsWith(suffix));
  if (hits.length !== 1) throw new Error(`expected one ${kind} *${suffix}, found ${hits.length}`);
  return hits[0] as T;
}

function holdfastContainer(objects: K8sObject[]): { deploy: Deployment; c: Container } {
  const deploy = find<Deployment>(objects, 'Deployment');
  const c = deploy.spec.template.spec.containers.find((x) => x.name === 'holdfast');
  if (!c) throw new Error('no holdfast container');
  return { deploy, c };
}

/** The model class for an apiVersion/kind, from kubernetes-models or a CRD package. */
function modelFor(apiVersion: string, kind: string): { validate(): void } & (new (
  data: unknown,
) => { validate(): void }) {
  const [group, version] = apiVersion.includes('/') ? apiVersion.split('/') : ['', apiVersion];
  const pkg =
    group === 'monitoring.coreos.com'
      ? `@kubernetes-models/prometheus-operator/${group}/${version}`
      : `kubernetes-models/${group ? `${group}/` : ''}${version}`;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const model = (require(pkg) as Record<string, unknown>)[kind];
  if (typeof model !== 'function') throw new Error(`no schema for ${apiVersion} ${kind}`);
  return model as never;
}

beforeAll(async () => {
  // The renders are independent; run them together.
  const out = await Promise.all(CASES.map(([, args]) => render(args)));
  CASES.forEach(([name], i) => rendered.set(name, out[i]));
}, 60_000);

test('helm lint passes for the defaults and for every example', async () => {
  for (const [name, args] of CASES) {
    const r = await helm(['lint', CHART, '--strict', ...args]);
    expect({ name, code: r.code, out: r.code === 0 ? '' : r.stdout + r.stderr }).toEqual({
      name,
      code: 0,
      out: '',
    });
  }
});

test('the examples cover external Redis Cluster, bundled Redis, Sentinel and TLS to Redis', () => {
  expect(EXAMPLES).toEqual(
    expect.arrayContaining([
      'external-cluster.yaml',
      'bundled-redis.yaml',
      'sentinel.yaml',
      'tls-redis.yaml',
    ]),
  );
});

test.each(CASES)('%s: every rendered object is valid against the Kubernetes API schemas', (name) => {
  const objects = rendered.get(name)!;
  expect(objects.length).toBeGreaterThan(4);
  for (const o of objects) {
    const Model = modelFor(o.apiVersion, o.kind);
    try {
      new Model(o).validate();
    } catch (err) {
      throw new Error(`${name}: ${o.kind} ${o.metadata.name}: ${(err as Error).message}`);
    }
  }
});

test('a rendered object that breaks the API schema is rejected (the validation can fail)', () => {
  const { deploy } = holdfastContainer(rendered.get('defaults')!);
  const broken = structuredClone(deploy);
  (broken.spec.template.spec.containers[0].ports![0] as { containerPort: unknown }).containerPort =
    'http';
  const Model = modelFor(broken.apiVersion, broken.kind);
  expect(() => new Model(broken).validate()).toThrow(/containerPort/);
});

describe.each(CASES)('%s: rolling restarts log nobody out', (name) => {
  test('RollingUpdate with maxUnavailable 0', () => {
    const { deploy } = holdfastContainer(rendered.get(name)!);
    expect(deploy.spec.strategy.type).toBe('RollingUpdate');
    expect(deploy.spec.strategy.rollingUpdate?.maxUnavailable).toBe(0);
  });

  test('grace period >= preStop + shutdown.drainDelay + shutdown.timeout (+ the primary margin)', () => {
    const objects = rendered.get(name)!;
    const { deploy, c } = holdfastContainer(objects);
    const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast')
      .data;
    const drainDelay = parseDuration(env.HOLDFAST_SHUTDOWN__DRAIN_DELAY)! / 1000;
    const timeout = parseDuration(env.HOLDFAST_SHUTDOWN__TIMEOUT)! / 1000;
    const sleep = c.lifecycle?.preStop?.exec?.command;
    expect(sleep?.[0]).toBe('sleep');
    const preStop = Number(sleep?.[1]);
    expect(preStop).toBeGreaterThan(0);
    // The primary kills a worker still running at drainDelay + timeout + 2 s (src/server/primary.ts).
    expect(deploy.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThanOrEqual(
      preStop + drainDelay + timeout + 2,
    );
  });

  test('startupProbe allows store.startupWait plus preflight before liveness applies', () => {
    const objects = rendered.get(name)!;
    const { c } = holdfastContainer(objects);
    const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast')
      .data;
    const wait = parseDuration(env.HOLDFAST_STORE__STARTUP_WAIT)! / 1000;
    const p = c.startupProbe!;
    expect(p.periodSeconds! * p.failureThreshold!).toBeGreaterThanOrEqual(wait + 30);
  });

  test('non-root, read-only root filesystem, no privilege escalation, capabilities dropped', () => {
    const objects = rendered.get(name)!;
    const pods: PodSpec[] = objects
      .filter((o) => ['Deployment', 'StatefulSet', 'Job'].includes(o.kind))
      .map((o) => (o as Deployment).spec.template.spec);
    for (const pod of pods) {
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
      for (const c of pod.containers) {
        expect(c.securityContext).toMatchObject({
          allowPrivilegeEscalation: false,
          readOnlyRootFilesystem: true,
          capabilities: { drop: ['ALL'] },
        });
      }
    }
  });
});

describe('probes point at paths the server serves', () => {
  let node: RunningNode;
  beforeAll(async () => {
    const settings = loadSettings({
      env: { HOLDFAST_ENV: 'test', HOLDFAST_HTTP__HOST: '127.0.0.1', HOLDFAST_HTTP__PORT: '0' },
    });
    node = await startNode(settings, { logger: createLogger('silent') });
  });
  afterAll(async () => {
    await node?.shutdown('test over');
  });

  test.each(CASES)('%s: startup, readiness and liveness answer 200 on a ready node', async (name) => {
    const { c } = holdfastContainer(rendered.get(name)!);
    const probes = { startup: c.startupProbe, readiness: c.readinessProbe, liveness: c.livenessProbe };
    const http = c.ports!.find((p) => p.name === 'http')!;
    for (const [kind, probe] of Object.entries(probes)) {
      const get = probe?.httpGet;
      expect({ kind, port: get?.port }).toEqual({ kind, port: 'http' });
      const res = await fetch(`${node.server.info.uri}${get!.path}`);
      expect({ kind, path: get!.path, status: res.status }).toEqual({
        kind,
        path: get!.path,
        status: 200,
      });
    }
    expect(c.readinessProbe!.httpGet!.path).toBe('/health/ready');
    expect(c.livenessProbe!.httpGet!.path).toBe('/health/live');
    expect(http.containerPort).toBe(3000);
  });
});

describe.each(CASES)('%s: the settings the pods get', (name) => {
  /** What a pod's environment would hold: the ConfigMap, plus a stand-in per secret/field ref. */
  function podEnv(objects: K8sObject[]): Record<string, string> {
    const { c } = holdfastContainer(objects);
    const env: Record<string, string> = {
      ...find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast').data,
    };
    for (const v of c.env ?? []) {
      if (v.value !== undefined) env[v.name] = v.value;
      else if (v.valueFrom?.secretKeyRef) env[v.name] = `secret-${v.valueFrom.secretKeyRef.key}-0123456789abcdef0123`;
      else if (v.valueFrom?.resourceFieldRef) {
        const cpu = String(c.resources?.limits?.cpu ?? '1');
        env[v.name] = String(Math.ceil(cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu)));
      }
    }
    return env;
  }

  test('every HOLDFAST_* name is a setting and `holdfast config check` accepts them all', async () => {
    const env = podEnv(rendered.get(name)!);
    const names = Object.keys(env).filter((n) => n.startsWith('HOLDFAST_'));
    expect(names.length).toBeGreaterThan(20);
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(['config', 'check'], { env, out: (l) => out.push(l), err: (l) => err.push(l) });
    expect({ code, err }).toEqual({ code: 0, err: [] });
    const resolved = YAML.parse(out.join('\n')) as { env: string; store: { type: string } };
    expect(resolved).toMatchObject({ env: 'production', store: { type: 'redis' } });
  });

  test('secrets come from a Secret, never from the ConfigMap', () => {
    const objects = rendered.get(name)!;
    const data = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast')
      .data;
    for (const key of Object.keys(data)) expect(key).not.toMatch(/PASSWORD|SECRET/);
    const { c } = holdfastContainer(objects);
    const cookie = c.env?.find((v) => v.name === 'HOLDFAST_COOKIE__PASSWORD');
    expect(cookie?.valueFrom?.secretKeyRef?.key).toBeTruthy();
  });
});

test('workers default to the CPU limit; an explicit value goes to the ConfigMap', async () => {
  const { c } = holdfastContainer(rendered.get('defaults')!);
  expect(c.env?.find((v) => v.name === 'HOLDFAST_WORKERS')?.valueFrom?.resourceFieldRef).toEqual({
    containerName: 'holdfast',
    resource: 'limits.cpu',
    divisor: '1',
  });
  const objects = await render(['--set', 'workers=3']);
  const cm = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast');
  expect(cm.data.HOLDFAST_WORKERS).toBe('3');
  expect(holdfastContainer(objects).c.env?.some((v) => v.name === 'HOLDFAST_WORKERS')).toBe(false);
});

test('a settings change changes the checksum annotation, so the pods roll', async () => {
  const before = holdfastContainer(rendered.get('defaults')!).deploy;
  const after = holdfastContainer(await render(['--set', 'settings.session.idleTtl=20m'])).deploy;
  const sum = (d: Deployment) => d.spec.template.metadata.annotations['checksum/config'];
  expect(sum(before)).toMatch(/^[0-9a-f]{64}$/);
  expect(sum(after)).not.toBe(sum(before));
});

test('bundled Redis: 6 nodes with AOF and volumes, a headless service Holdfast discovers, a Job', () => {
  const objects = rendered.get('defaults')!;
  const sts = find<K8sObject & { spec: { replicas: number; serviceName: string; volumeClaimTemplates: unknown[] } }>(
    objects,
    'StatefulSet',
  );
  expect(sts.spec.replicas).toBe(6);
  expect(sts.spec.volumeClaimTemplates).toHaveLength(1);
  const conf = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', '-redis').data;
  expect(conf['redis.conf']).toMatch(/^appendonly yes$/m);
  expect(conf['redis.conf']).toMatch(/^maxmemory-policy noeviction$/m);
  // Replica reads need the cluster to keep answering during a failover (ADR 205).
  expect(conf['redis.conf']).toMatch(/^cluster-require-full-coverage no$/m);
  expect(conf['cluster-init.sh']).toMatch(/--cluster-replicas 1/);
  // Re-running the job on a formed cluster must not create it again.
  expect(conf['cluster-init.sh']).toMatch(/cluster_slots_assigned/);
  const headless = find<K8sObject & { spec: { clusterIP: string } }>(objects, 'Service', '-headless');
  expect(headless.spec.clusterIP).toBe('None');
  expect(sts.spec.serviceName).toBe(headless.metadata.name);
  const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast').data;
  expect(env.HOLDFAST_STORE__REDIS__DNS__NAME).toBe(`${headless.metadata.name}.auth.svc.cluster.local`);
  expect(objects.filter((o) => o.kind === 'Job')).toHaveLength(1);
  expect(objects.filter((o) => o.kind === 'PodDisruptionBudget')).toHaveLength(2);
});

test('the bundled Redis scripts parse as POSIX sh (dash), the shell the redis image runs them with', async () => {
  const conf = find<K8sObject & { data: Record<string, string> }>(
    rendered.get('defaults')!,
    'ConfigMap',
    '-redis',
  ).data;
  for (const name of ['start.sh', 'cluster-init.sh']) {
    const file = path.join(ROOT, 'test-artifacts', `chart-${process.pid}-${name}`);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, conf[name]);
    try {
      await execFileP('dash', ['-n', file]);
    } finally {
      fs.rmSync(file, { force: true });
    }
  }
});

test('the bundled example renders monitoring: ServiceMonitor, PrometheusRule, dashboards, HPA', async () => {
  const objects = rendered.get('bundled-redis.yaml')!;
  const sm = find<K8sObject & { spec: { endpoints: { port: string; path: string }[] } }>(
    objects,
    'ServiceMonitor',
  );
  expect(sm.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
  const rule = find<K8sObject & { spec: { groups: unknown[] } }>(objects, 'PrometheusRule');
  // The rules of deploy/prometheus, with the job, Deployment and container selectors naming this
  // release (`helm template hf --namespace auth`: fullname hf-holdfast) and nothing else changed.
  const text = fs.readFileSync(path.join(ROOT, 'deploy/prometheus/holdfast.rules.yml'), 'utf8');
  for (const selector of ['job="holdfast"', 'deployment="holdfast"', 'container="holdfast"']) {
    expect({ selector, used: text.includes(selector) }).toEqual({ selector, used: true });
  }
  const source = YAML.parse(
    text
      .replaceAll('job="holdfast"', 'job="hf-holdfast"')
      .replaceAll('deployment="holdfast"', 'namespace="auth", deployment="hf-holdfast"')
      .replaceAll('container="holdfast"', 'namespace="auth", container="holdfast"'),
  ) as { groups: unknown[] };
  expect(rule.spec.groups).toEqual(source.groups);
  // The rewritten rules are still valid PromQL: promtool checks them as Prometheus would load them.
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-chart-rules-')), 'rules.yml');
  fs.writeFileSync(file, YAML.stringify({ groups: rule.spec.groups }));
  try {
    const { stdout } = await execFileP('/usr/bin/promtool', ['check', 'rules', file]);
    expect(stdout).toContain('SUCCESS');
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true });
  }
  const dash = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', '-dashboards');
  expect(dash.metadata.labels?.grafana_dashboard).toBe('1');
  for (const f of fs.readdirSync(path.join(ROOT, 'grafana/dashboards'))) {
    expect(JSON.parse(dash.data[f])).toEqual(
      JSON.parse(fs.readFileSync(path.join(ROOT, 'grafana/dashboards', f), 'utf8')),
    );
  }
  expect(objects.some((o) => o.kind === 'HorizontalPodAutoscaler')).toBe(true);
  expect(holdfastContainer(objects).deploy.spec.replicas).toBeUndefined();
});

test("the chart's copies of the rules and dashboards equal deploy/prometheus and grafana/dashboards", () => {
  const same = (a: string, b: string) =>
    expect({ file: a, text: fs.readFileSync(path.join(CHART, a), 'utf8') }).toEqual({
      file: a,
      text: fs.readFileSync(path.join(ROOT, b), 'utf8'),
    });
  same('files/holdfast.rules.yml', 'deploy/prometheus/holdfast.rules.yml');
  const dashboards = fs.readdirSync(path.join(ROOT, 'grafana/dashboards')).sort();
  expect(fs.readdirSync(path.join(CHART, 'files/dashboards')).sort()).toEqual(dashboards);
  for (const f of dashboards) same(`files/dashboards/${f}`, `grafana/dashboards/${f}`);
});

test('TLS example: store.redis.tls on, the CA mounted and given to Node', () => {
  const objects = rendered.get('tls-redis.yaml')!;
  const env = find<K8sObject & { data: Record<string, string> }>(objects, 'ConfigMap', 'hf-holdfast').data;
  expect(env.HOLDFAST_STORE__REDIS__TLS).toBe('true');
  const { c } = holdfastContainer(objects);
  expect(c.env?.find((v) => v.name === 'NODE_EXTRA_CA_CERTS')?.value).toBe(
    '/etc/holdfast/redis-ca/ca.crt',
  );
});

describe('bad values are rejected with a message naming the value', () => {
  test.each([
    ['a wrong type', ['--set', 'replicaCount=three'], /at '\/replicaCount': got string, want integer/],
    ['an unknown key', ['--set', 'replicaCont=3'], /additional properties 'replicaCont' not allowed/],
    [
      'an unknown nested key',
      ['--set', 'redis.external.tsl=true'],
      /at '\/redis\/external': additional properties 'tsl' not allowed/,
    ],
    [
      'a value outside its choices',
      ['--set', 'redis.external.mode=clustr'],
      /at '\/redis\/external\/mode': value must be one of/,
    ],
    [
      'a drain delay longer than the timeout',
      ['--set', 'shutdown.drainDelaySeconds=30'],
      /shutdown\.drainDelaySeconds \(30\) must be at most shutdown\.timeoutSeconds/,
    ],
    [
      'a preflight requirement the bundled cluster cannot meet',
      ['--set', 'redis.require.replicasPerMaster=2'],
      /redis\.require\.replicasPerMaster \(2\) is more than the bundled cluster has/,
    ],
    [
      'external Redis without nodes or DNS',
      ['--set', 'redis.enabled=false'],
      /redis\.external\.nodes or redis\.external\.dns\.name/,
    ],
  ])('%s', async (_what, args, message) => {
    const r = await helm(['template', 'hf', CHART, ...args]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(message);
  });
});
