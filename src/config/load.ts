import { readFileSync, statSync } from 'node:fs';
import YAML from 'yaml';
import { ConfigError } from '../errors';
import { cpuBudget, CpuProbeOptions } from './cpu-budget';
import { DEFAULTS, ENV_DEFAULTS } from './defaults';
import { CONFIG_FILE_VAR, pathForEnvVar } from './env-vars';
import { crossChecks, problemFromDetail, unnamedEnvironment } from './problems';
import { schema } from './schema';
import type { Env, Settings } from './settings';
import { deepFreeze, merge, record, setPath, Tree } from './tree';

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
