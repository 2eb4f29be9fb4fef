import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';

/**
 * The chart's bundled Redis scripts run for real: six redis-server processes, each in its own
 * network namespace with its own address on port 6379 (as pods have), started by the chart's
 * start.sh with the chart's redis.conf; the chart's cluster-init.sh forms the cluster from the
 * Kubernetes DNS names (an /etc/hosts of the job's namespace stands in for cluster DNS), and a
 * second run changes nothing. A node that comes back on a new address rejoins (start.sh
 * rewrites its own address in nodes.conf). Then `holdfast preflight` with the chart's settings
 * passes against it. Namespaces hang off one bridge with no address on the host side: no
 * packet leaves them.
 */
const execFileP = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
const HELM = path.join(ROOT, '.tools/bin/helm');
const ID = (process.pid % 10000).toString(36);
const BRIDGE = `hfb${ID}`;
const SUBNET = `10.201.${process.pid % 250}`;
const NS = (i: number) => `hf${ID}n${i}`;
const JOB = 6; // namespace index of the job (and of preflight)
const addresses = Array.from({ length: 7 }, (_, i) => `${SUBNET}.${11 + i}`);
const IP = (i: number) => addresses[i];
const PASSWORD = 'bundled-redis-test-password-4f1c';
const TMP = fs.mkdtempSync(path.join(os.tmpdir(), 'hf-bundled-redis-'));
const RELEASE = 'hf';
const NAMESPACE = 'auth';

let conf: Record<string, string>;
let holdfastEnv: Record<string, string>;
const nodes: (ChildProcess | undefined)[] = [];
let createdData = false;
let createdNetnsDir = false;

const run = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) =>
  execFileP(cmd, args, { timeout: 120_000, env: env ?? process.env, maxBuffer: 16 << 20 });
const inNs = (i: number, cmd: string[], env?: NodeJS.ProcessEnv) =>
  run('ip', ['netns', 'exec', NS(i), ...cmd], env);
const cli = (i: number, ...args: string[]) =>
  inNs(i, ['redis-cli', '-h', IP(i), '-p', '6379', ...args], {
    ...process.env,
    REDISCLI_AUTH: PASSWORD,
  }).then((r) => r.stdout);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what} did not happen within ${timeoutMs} ms`);
}

/** One Redis "pod": the chart's start.sh with /etc/redis, /run/redis and /data of its own. */
function startNode(i: number): ChildProcess {
  const dir = path.join(TMP, `node-${i}`);
  for (const d of ['etc', 'run', 'data']) fs.mkdirSync(path.join(dir, d), { recursive: true });
  for (const f of ['redis.conf', 'start.sh']) fs.writeFileSync(path.join(dir, 'etc', f), conf[f]);
  const script = [
    `mount --bind ${dir}/etc /etc/redis`,
    `mount -t tmpfs tmpfs /run && mkdir /run/redis && mount --bind ${dir}/run /run/redis`,
    `mount --bind ${dir}/data /data`,
    'exec sh /etc/redis/start.sh',
  ].join(' && ');
  const out = fs.openSync(path.join(dir, 'redis.log'), 'a');
  const child = spawn('ip', ['netns', 'exec', NS(i), 'unshare', '--mount', 'sh', '-c', script], {
    stdio: ['ignore', out, out],
    env: { ...process.env, POD_IP: IP(i), REDISCLI_AUTH: PASSWORD },
  });
  fs.closeSync(out);
  return child;
}

/**
 * What cluster DNS would answer: each pod's name, and the headless service name for every pod.
 * Rewritten in place, so namespaces that already bind-mount it see the change.
 */
function writeHosts() {
  const lines = ['127.0.0.1 localhost'];
  for (let i = 0; i < 6; i++) {
    lines.push(`${IP(i)} ${RELEASE}-holdfast-redis-${i}.${RELEASE}-holdfast-redis-headless.${NAMESPACE}.svc.cluster.local`);
    lines.push(`${IP(i)} ${holdfastEnv.HOLDFAST_STORE__REDIS__DNS__NAME}`);
  }
  for (let i = 0; i <= JOB; i++) fs.writeFileSync(`/etc/netns/${NS(i)}/hosts`, `${lines.join('\n')}\n`);
}

/** A pod rescheduled: a new address on its interface, and in "DNS". */
async function move(i: number, address: string) {
  await inNs(i, ['ip', 'addr', 'flush', 'dev', 'eth0']);
  await inNs(i, ['ip', 'addr', 'add', `${address}/24`, 'dev', 'eth0']);
  addresses[i] = address;
  writeHosts();
}

async function stopNode(i: number) {
  const child = nodes[i];
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function clusterInit() {
  const file = path.join(TMP, 'cluster-init.sh');
  fs.writeFileSync(file, conf['cluster-init.sh']);
  return inNs(JOB, ['sh', file], { ...process.env, REDISCLI_AUTH: PASSWORD });
}

beforeAll(async () => {
  const { stdout } = await run(HELM, ['template', RELEASE, path.join(ROOT, 'helm/holdfast'), '-n', NAMESPACE]);
  const docs = YAML.parseAllDocuments(stdout).map((d) => d.toJS() as { kind: string; metadata: { name: string }; data: Record<string, string> });
  conf = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name.endsWith('-redis'))!.data;
  holdfastEnv = docs.find((d) => d.kind === 'ConfigMap' && d.metadata.name === `${RELEASE}-holdfast`)!.data;

  if (!fs.existsSync('/data')) {
    fs.mkdirSync('/data');
    createdData = true;
  }
  if (!fs.existsSync('/etc/netns')) createdNetnsDir = true;
  await run('ip', ['link', 'add', BRIDGE, 'type', 'bridge']);
  await run('ip', ['link', 'set', BRIDGE, 'up']);
  for (let i = 0; i <= JOB; i++) {
    await run('ip', ['netns', 'add', NS(i)]);
    fs.mkdirSync(`/etc/netns/${NS(i)}`, { recursive: true });
    await run('ip', ['link', 'add', `${BRIDGE}v${i}`, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', NS(i)]);
    await run('ip', ['link', 'set', `${BRIDGE}v${i}`, 'master', BRIDGE, 'up']);
    await inNs(i, ['ip', 'addr', 'add', `${IP(i)}/24`, 'dev', 'eth0']);
    await inNs(i, ['ip', 'link', 'set', 'eth0', 'up']);
    await inNs(i, ['ip', 'link', 'set', 'lo', 'up']);
  }
  writeHosts();
  for (let i = 0; i < 6; i++) nodes[i] = startNode(i);
}, 120_000);

afterAll(async () => {
  for (let i = 0; i < 6; i++) await stopNode(i);
  for (let i = 0; i <= JOB; i++) {
    await run('ip', ['netns', 'del', NS(i)]).catch(() => undefined);
    fs.rmSync(`/etc/netns/${NS(i)}`, { recursive: true, force: true });
  }
  await run('ip', ['link', 'del', BRIDGE]).catch(() => undefined);
  if (createdData) fs.rmSync('/data', { recursive: true, force: true });
  if (createdNetnsDir) fs.rmSync('/etc/netns', { recursive: true, force: true });
  fs.rmSync(TMP, { recursive: true, force: true });
}, 60_000);

test('cluster-init.sh forms 3 masters + 3 replicas from the DNS names, and a re-run changes nothing', async () => {
  const first = await clusterInit();
  expect(first.stdout).toMatch(/forming the cluster/);
  expect(first.stdout).toMatch(/cluster_state:ok/);
  const topology = async () =>
    (await cli(0, 'cluster', 'nodes'))
      .trim()
      .split('\n')
      .map((l) => l.split(' ').slice(0, 3).join(' '))
      .sort();
  await until('replicas linked', async () => (await cli(0, 'cluster', 'nodes')).match(/slave/g)?.length === 3);
  const before = await topology();
  expect(before.filter((l) => /master/.test(l))).toHaveLength(3);

  const second = await clusterInit();
  expect(second.stdout).toMatch(/cluster already formed; not creating it again/);
  expect(await topology()).toEqual(before);
}, 120_000);

test('the bundled config is what preflight asks: `holdfast preflight` with the chart settings passes', async () => {
  await until('every replica online', async () => {
    const info = await Promise.all([0, 1, 2, 3, 4, 5].map((i) => cli(i, 'info', 'replication')));
    return info.filter((s) => /connected_slaves:1/.test(s)).length === 3;
  });
  const env = {
    PATH: process.env.PATH,
    ...holdfastEnv,
    HOLDFAST_COOKIE__PASSWORD: 'a-test-cookie-password-that-is-long-enough',
    HOLDFAST_STORE__REDIS__PASSWORD: PASSWORD,
    HOLDFAST_WORKERS: '1',
    HOLDFAST_HTTP__PORT: '0',
    HOLDFAST_METRICS__PORT: '0',
  };
  const r = await inNs(
    JOB,
    ['node', '-r', 'ts-node/register/transpile-only', path.join(ROOT, 'src/cli/main.ts'), 'preflight'],
    env as NodeJS.ProcessEnv,
  ).catch((e: { stdout: string; stderr: string; code: number }) => e);
  expect(r.stdout).toMatch(/preflight: .* 0 failed, 0 not yet/);
}, 120_000);

test('a node back on a new address rejoins (cluster-announce-ip; the others learn it by gossip)', async () => {
  await stopNode(5);
  await move(5, `${SUBNET}.99`);
  nodes[5] = startNode(5);
  await until('the others see the new address', async () =>
    (await cli(0, 'cluster', 'nodes')).includes(`${IP(5)}:6379`),
  );
  await until('cluster_state:ok', async () => /cluster_state:ok/.test(await cli(0, 'cluster', 'info')));
}, 90_000);

test('after a full restart with every pod on a new address the cluster heals (start.sh meets peers by DNS)', async () => {
  for (let i = 0; i < 6; i++) await stopNode(i);
  for (let i = 0; i < 6; i++) await move(i, `${SUBNET}.${111 + i}`);
  for (let i = 0; i < 6; i++) nodes[i] = startNode(i);
  // cluster_state can read ok on a stale view: wait until every node knows every new address.
  for (let i = 0; i < 6; i++) {
    await until(
      `node ${i} knows every new address`,
      async () => {
        const view = await cli(i, 'cluster', 'nodes');
        return addresses.slice(0, 6).every((a) => view.includes(` ${a}:6379@`));
      },
      90_000,
    );
  }
  await until('cluster_state:ok', async () => /cluster_state:ok/.test(await cli(0, 'cluster', 'info')));
  const view = await cli(0, 'cluster', 'nodes');
  expect(view.match(/master/g)).toHaveLength(3);
}, 180_000);
