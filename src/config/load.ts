import { readFileSync, statSync } from 'node:fs';
import type Joi from 'joi';
import YAML from 'yaml';
import { ConfigError, Problem } from '../errors';
import { cpuBudget, CpuProbeOptions } from './cpu-budget';
import { DEFAULTS, ENV_DEFAULTS, SECRET_PATHS } from './defaults';
import { formatDuration } from './duration';
import { CONFIG_FILE_VAR, envVarFor, pathForEnvVar } from './env-vars';
import { schema } from './schema';
import type { Env, Settings } from './settings';

type Tree = Record<string, unknown>;

export interface LoadOptions {
  /** Settings file (YAML or JSON); defaults to $HOLDFAST_CONFIG. */
  file?: string;
  /** Environment to read HOLDFAST_* overrides and NODE_ENV from; defaults to process.env. */
  env?: NodeJS.ProcessEnv;
  /** Settings given by code (tests, embedding apps); applied after the file, before env vars. */
  overrides?: object;
  /** Where `workers: auto` looks for the CPU quota and affinity (tests: a fixture cgroup tree). */
  cpu?: CpuProbeOptions;
}

/** How the number of workers was chosen: logged at start and shown by `holdfast config check`. */
export interface WorkerSizing {
  readonly workers: number;
  /** "2 workers: cgroup v2 cpu.max 200000 100000 at /sys/fs/cgroup (2 CPUs)". */
  readonly reason: string;
}

// Kept beside the settings, not in them: `config check` prints settings that read back as a file.
const SIZING = new WeakMap<object, WorkerSizing>();

/** Why settings.workers is what it is (settings not from loadSettings: "as given"). */
export function workerSizing(settings: Settings): WorkerSizing {
  return (
    SIZING.get(settings) ?? {
      workers: settings.workers,
      reason: `${workerCount(settings.workers)}: workers ${settings.workers} as given`,
    }
  );
}

function workerCount(n: number): string {
  return `${n} worker${n === 1 ? '' : 's'}`;
}

/**
 * Loads settings: defaults, then per-environment defaults, then the file, then code overrides,
 * then HOLDFAST_* variables. Every problem is collected and thrown at once as a ConfigError.
 */
export function loadSettings(options: LoadOptions = {}): Settings {
  const env = options.env ?? process.env;
  const sources = new Map<string, string>();
  const file = options.file ?? env[CONFIG_FILE_VAR];
  const fromFile = file ? readSettingsFile(file) : {};
  record(sources, fromFile, `file ${file}`);
  const fromCode = (options.overrides ?? {}) as Tree;
  record(sources, fromCode, 'code');
  const fromEnv = readEnvOverrides(env, sources);
  const unnamed = unnamedEnvironment(env, [fromEnv, fromCode, fromFile], sources);
  // Alone: every other rule depends on the environment, which is the thing not known yet.
  if (unnamed) throw new ConfigError([unnamed]);

  const chosenEnv = String(fromEnv.env ?? fromCode.env ?? fromFile.env ?? nodeEnv(env)) as Env;
  const layers = [
    DEFAULTS,
    ENV_DEFAULTS[chosenEnv] ?? {},
    fromFile,
    fromCode,
    fromEnv,
    { env: chosenEnv },
  ];
  const merged = layers.reduce<Tree>((acc, layer) => merge(acc, layer as Tree), {});

  const { value, error } = schema.validate(merged, { abortEarly: false, convert: true });
  const problems = error ? error.details.map((d) => problemFromDetail(d, sources)) : [];
  if (!error) problems.push(...crossChecks(value as Settings));
  if (problems.length > 0) throw new ConfigError(problems);

  const resolved = value as Tree;
  let sizing: WorkerSizing;
  if (resolved.workers === 'auto') {
    const budget = cpuBudget(options.cpu);
    resolved.workers = budget.cpus;
    sizing = { workers: budget.cpus, reason: `${workerCount(budget.cpus)}: ${budget.reason}` };
  } else {
    const n = resolved.workers as number;
    const from = sources.get('workers') ?? `default for env ${chosenEnv}`;
    sizing = { workers: n, reason: `${workerCount(n)}: workers ${n} (${from})` };
  }
  const settings = deepFreeze(resolved) as unknown as Settings;
  SIZING.set(settings, sizing);
  return settings;
}

function nodeEnv(env: NodeJS.ProcessEnv): Env {
  const n = env.NODE_ENV;
  return n === 'production' || n === 'test' ? n : 'development';
}

const ENVS: readonly string[] = ['development', 'test', 'production'];

/**
 * A Redis store configured (any store.redis.* setting, or store.type redis) while no environment
 * is named: without this, such a deployment would start in development mode, on the in-process
 * store, with the published development cookie password, and say nothing.
 */
function unnamedEnvironment(
  env: NodeJS.ProcessEnv,
  layers: readonly Tree[],
  sources: Map<string, string>,
): Problem | undefined {
  if (layers.some((l) => l.env !== undefined)) return undefined;
  if (env.NODE_ENV !== undefined && ENVS.includes(env.NODE_ENV)) return undefined;
  const typeRedis = layers.some((l) => (l.store as Tree | undefined)?.type === 'redis');
  const keys = [...sources.keys()];
  // A leaf setting when there is one (store.redis.nodes), else a whole object from a JSON variable.
  const given =
    keys.find((p) => p.startsWith('store.redis.')) ??
    keys.find((p) => p === 'store.redis' && sources.get(p)?.startsWith('HOLDFAST_'));
  const setting = given ?? (typeRedis ? 'store.type' : undefined);
  if (!setting) return undefined;
  const unknown =
    env.NODE_ENV !== undefined
      ? `NODE_ENV "${env.NODE_ENV}", which is not an environment Holdfast knows, and no env setting or HOLDFAST_ENV`
      : 'no environment named (no env setting, HOLDFAST_ENV or NODE_ENV)';
  return {
    path: 'env',
    found: `${unknown}, while ${setting} is set (from ${sources.get(setting)})`,
    expected:
      'an environment named whenever a Redis store is configured: production, development or test',
    hint: 'set HOLDFAST_ENV=production (or env: production in the settings file); unnamed, Holdfast would run as development, on the in-process store with the published development cookie password',
  };
}

function readSettingsFile(file: string): Tree {
  const fail = (found: string, hint: string): never => {
    throw new ConfigError(
      [
        {
          path: `settings file (--config / ${CONFIG_FILE_VAR})`,
          found,
          expected: 'a readable YAML or JSON file holding a mapping',
          hint,
        },
      ],
      'HF_CONFIG_FILE',
    );
  };
  let text: string;
  try {
    if (statSync(file).isDirectory())
      fail(`${file}, which is a directory`, 'name the settings file itself, not its folder');
    text = readFileSync(file, 'utf8');
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    return fail(
      `${file} (${(err as NodeJS.ErrnoException).code ?? 'unreadable'})`,
      'check the path and that this user may read it',
    );
  }
  let doc: unknown;
  try {
    doc = YAML.parse(text);
  } catch (err) {
    return fail(
      `${file} with a syntax error: ${(err as Error).message.split('\n')[0]}`,
      'fix the YAML/JSON syntax at that line',
    );
  }
  if (doc === null || doc === undefined) return {};
  if (typeof doc !== 'object' || Array.isArray(doc))
    return fail(
      `${file} holding a ${Array.isArray(doc) ? 'list' : typeof doc}`,
      'the top level must be a mapping of settings, e.g. `http: { port: 3000 }`',
    );
  return doc as Tree;
}

function readEnvOverrides(env: NodeJS.ProcessEnv, sources: Map<string, string>): Tree {
  const out: Tree = {};
  for (const [name, raw] of Object.entries(env)) {
    const path = pathForEnvVar(name);
    if (!path || raw === undefined) continue;
    setPath(out, path, coerceEnvValue(path, raw));
    sources.set(path, name);
  }
  return out;
}

/** Env values are strings: lists are comma-separated, objects JSON; joi converts the rest. */
function coerceEnvValue(path: string, raw: string): unknown {
  const trimmed = raw.trim();
  if (trimmed.startsWith('[') || trimmed.startsWith('{')) {
    try {
      return JSON.parse(trimmed);
    } catch {
      return raw;
    }
  }
  let type: string | undefined;
  try {
    type = schema.extract(path).type;
  } catch {
    type = undefined; // unknown setting: joi reports it
  }
  if (type === 'array') return trimmed === '' ? [] : trimmed.split(',').map((s) => s.trim());
  return raw;
}

/** Settings that were removed: an old name fails start-up with the setting that replaced it. */
const REPLACED: Record<string, { expected: string; hint: string }> = {
  'throttle.trustProxy': {
    expected:
      "no throttle.trustProxy: it was replaced by http.trustedProxies, a list of the proxies' addresses (CIDR blocks)",
    hint: 'remove throttle.trustProxy (or HOLDFAST_THROTTLE__TRUST_PROXY) and set http.trustedProxies (HOLDFAST_HTTP__TRUSTED_PROXIES) to the CIDRs of your load balancer or ingress, e.g. ["10.0.0.0/8"]; see docs/security.md, "Client address behind proxies"',
  },
};

function problemFromDetail(d: Joi.ValidationErrorItem, sources: Map<string, string>): Problem {
  const path = d.path.join('.');
  const ctx = d.context ?? {};
  const source = sourceOf(path, sources);
  const found = `${path === '' ? 'settings' : redact(path, ctx.value)}${source ? ` (from ${source})` : ''}`;
  const replaced = d.type === 'object.unknown' ? REPLACED[path] : undefined;
  return {
    path: path || '(root)',
    found,
    expected: replaced?.expected ?? expectedFor(d),
    hint: replaced?.hint ?? hintFor(path, d, source),
  };
}

function sourceOf(path: string, sources: Map<string, string>): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s) return s;
  }
  return undefined;
}

function expectedFor(d: Joi.ValidationErrorItem): string {
  const ctx = d.context ?? {};
  switch (d.type) {
    case 'any.only':
      return `one of ${(ctx.valids as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'any.required':
      return 'a value (required here)';
    case 'object.unknown':
      return 'a known setting name (see docs/configuration.md)';
    case 'string.min':
      return `at least ${ctx.limit} characters`;
    case 'number.min':
      return `a number >= ${ctx.limit}`;
    case 'number.max':
      return `a number <= ${ctx.limit}`;
    case 'number.base':
      return 'a number';
    case 'number.integer':
      return 'a whole number';
    case 'boolean.base':
      return 'true or false';
    case 'cidr.base':
      return 'an IP address or a CIDR block, e.g. 10.0.0.0/8, 192.168.1.0/24, fd00::/8 or ::1';
    case 'duration.base':
      return 'a duration such as 100ms, 30s, 30m, 12h, 7d, or a number of milliseconds';
    case 'hostPort.base':
    case 'alternatives.match':
    case 'alternatives.types':
      return d.path.includes('workers')
        ? '"auto" or a whole number from 1 to 256'
        : 'host:port, e.g. 10.0.0.1:6379';
    case 'string.pattern.base':
      return `text matching ${String(ctx.regex)}`;
    case 'string.hostname':
      return 'a DNS name, e.g. redis-headless.default.svc.cluster.local';
    case 'array.base':
      return 'a list (in env vars: comma-separated)';
    case 'array.min':
      return `at least ${ctx.limit} entries`;
    case 'object.base':
      return 'a mapping of settings';
    default:
      return d.message.replace(/^"[^"]*" /, '');
  }
}

const HINTS: Record<string, string> = {
  'cookie.password':
    'set cookie.password (or HOLDFAST_COOKIE__PASSWORD) to a random secret of 32+ characters, e.g. `openssl rand -base64 33`',
  'cookie.secure':
    'production cookies must be Secure: remove cookie.secure=false or run with env other than production',
  'store.type':
    'production needs a shared store: set store.type to redis and store.redis.nodes or store.redis.dns',
};

function hintFor(path: string, d: Joi.ValidationErrorItem, source?: string): string {
  if (HINTS[path]) return HINTS[path];
  const where = source?.startsWith('HOLDFAST_')
    ? `change ${source}`
    : `set ${path} in the settings file or ${envVarFor(path)}`;
  if (d.type === 'object.unknown')
    return `remove or rename ${source ?? path}; check the spelling against docs/configuration.md`;
  return where;
}

const REAUTH_MIN_MS = 10_000;
const REAUTH_MAX_MS = 3_600_000;

/** Rules that span several settings; reported as problems just like schema errors. */
function crossChecks(s: Settings): Problem[] {
  const out: Problem[] = [];
  const { idleTtl, absoluteTtl, renewAfter } = s.session;
  if (renewAfter >= idleTtl) {
    out.push({
      path: 'session.renewAfter',
      found: formatDuration(renewAfter),
      expected: `less than session.idleTtl (${formatDuration(idleTtl)})`,
      hint: 'renewal must happen before the idle timeout ends; a quarter to half of idleTtl is usual',
    });
  }
  if (idleTtl > absoluteTtl) {
    out.push({
      path: 'session.idleTtl',
      found: formatDuration(idleTtl),
      expected: `at most session.absoluteTtl (${formatDuration(absoluteTtl)})`,
      hint: 'lower session.idleTtl or raise session.absoluteTtl',
    });
  }
  const reauth = s.auth.reauthWindow;
  if (reauth < REAUTH_MIN_MS || reauth > REAUTH_MAX_MS) {
    out.push({
      path: 'auth.reauthWindow',
      found: formatDuration(reauth),
      expected: 'from 10s to 1h',
      hint: 'the time a user has, after confirming their password, to sign out other devices or link and unlink a provider; 5m is usual',
    });
  }
  const r = s.store.redis;
  if (s.store.type === 'redis' && r.nodes.length === 0 && !r.dns) {
    out.push({
      path: 'store.redis.nodes',
      found: 'no nodes and no store.redis.dns',
      expected: 'seed nodes (host:port list) or a DNS name to discover them',
      hint: 'set HOLDFAST_STORE__REDIS__NODES=10.0.0.1:6379,10.0.0.2:6379 or store.redis.dns.name (a headless service)',
    });
  }
  if (r.mode === 'sentinel' && r.dns) {
    out.push({
      path: 'store.redis.dns',
      found: r.dns.name,
      expected: 'no DNS discovery in sentinel mode (sentinels are listed in store.redis.nodes)',
      hint: 'remove store.redis.dns or use mode cluster',
    });
  }
  if (s.shutdown.drainDelay > s.shutdown.timeout) {
    out.push({
      path: 'shutdown.drainDelay',
      found: formatDuration(s.shutdown.drainDelay),
      expected: `at most shutdown.timeout (${formatDuration(s.shutdown.timeout)})`,
      hint: 'lower shutdown.drainDelay or raise shutdown.timeout',
    });
  }
  return out;
}

/** Renders a value for an operator, never revealing a secret. */
export function redact(path: string, value: unknown): string {
  if (value === undefined) return 'nothing';
  if (SECRET_PATHS.includes(path)) {
    return typeof value === 'string'
      ? `a secret of ${value.length} characters`
      : `a ${typeof value}`;
  }
  const text =
    typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** Settings as an operator may see them: every secret replaced. */
export function redactedSettings(settings: Settings): unknown {
  const copy = JSON.parse(JSON.stringify(settings)) as Tree;
  for (const path of SECRET_PATHS) {
    const parts = path.split('.');
    let node: Tree | undefined = copy;
    for (const p of parts.slice(0, -1)) node = node?.[p] as Tree | undefined;
    const last = parts[parts.length - 1];
    if (node && node[last] !== undefined) node[last] = '[redacted]';
  }
  return copy;
}

function record(sources: Map<string, string>, tree: Tree, source: string, prefix = ''): void {
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    sources.set(path, source);
    if (v && typeof v === 'object' && !Array.isArray(v)) record(sources, v as Tree, source, path);
  }
}

function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    if (!node[p] || typeof node[p] !== 'object') node[p] = {};
    node = node[p] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

function merge(base: Tree, over: Tree): Tree {
  const out: Tree = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const b = out[k];
    const bothObjects =
      v &&
      typeof v === 'object' &&
      !Array.isArray(v) &&
      b &&
      typeof b === 'object' &&
      !Array.isArray(b);
    out[k] = bothObjects ? merge(b as Tree, v as Tree) : v;
  }
  return out;
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
