/**
 * What the docs name exists in the code: every metric name (docs/, its ADRs and README.md), every
 * setting path and HOLDFAST_* variable, and every option of a `holdfast ...` command line. A
 * rename in the code without the docs (or a typo in the docs) fails here, naming the file.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Description } from 'joi';
import { parse } from 'yaml';
import { main } from '../../../src/cli/main';
import { CONFIG_FILE_VAR, DEFAULTS, pathForEnvVar } from '../../../src/config';
import { ErrorCodes } from '../../../src/errors';
import { schema } from '../../../src/config/schema';
import { METRICS } from '../../../src/metrics';
import { CHECK_IDS } from '../../../src/preflight';
import { docPages, ROOT } from '../../support/files';
import { documentedMetrics, familyOf } from '../../support/metrics-docs';

const DOCS = docPages();

/** `[file, token]` for every match of `re` (group 1) in every page. */
function named(re: RegExp): Array<[string, string]> {
  return DOCS.flatMap(({ file, text }) =>
    [...text.matchAll(re)].map((m): [string, string] => [file, m[1]]),
  );
}

/** Every path of an object tree, inner nodes included: `store`, `store.redis`, ... */
function paths(tree: unknown, prefix = ''): string[] {
  if (tree === null || typeof tree !== 'object' || Array.isArray(tree)) return [];
  return Object.entries(tree).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...paths(v, p)];
  });
}

/** Every setting path of the schema, inner nodes included. */
function settingPaths(d: Description = schema.describe(), prefix = ''): string[] {
  const keys = (d as { keys?: Record<string, Description> }).keys;
  if (d.type !== 'object' || !keys) return [];
  return Object.entries(keys).flatMap(([k, v]) => {
    const p = prefix ? `${prefix}.${k}` : k;
    return [p, ...settingPaths(v, p)];
  });
}

describe('metric names in the docs', () => {
  const documented = documentedMetrics();
  const catalogue = new Set<string>(Object.values(METRICS).map((m) => m.name));
  // Cookie names share the prefix (`holdfast_remember`, `holdfast_oauth_<provider>`).
  const cookie = (name: string) =>
    name === DEFAULTS.cookie.rememberName || name.startsWith(`${DEFAULTS.cookie.name}_oauth_`);

  it('every holdfast_* metric a page names is in the catalogue or docs/metrics.md', () => {
    const unknown = named(/\b(holdfast_[a-z0-9_]*[a-z0-9])\b/g).filter(([, name]) => {
      if (cookie(name)) return false;
      const family = familyOf(name, documented) ?? name;
      return !documented.has(family) && !catalogue.has(family);
    });
    expect(unknown).toEqual([]);
  });
});

describe('error codes in the docs', () => {
  it('every HF_* code a page names exists (ADRs may name removed ones: they are history)', () => {
    const unknown = named(/\b(HF_[A-Z_]*[A-Z])\b/g).filter(
      ([file, code]) => !file.startsWith('docs/adr/') && !Object.hasOwn(ErrorCodes, code),
    );
    expect(unknown).toEqual([]);
  });
});

describe('settings named in the docs', () => {
  const settings = new Set(settingPaths());
  const tops = new Set([...settings].map((p) => p.split('.')[0]));
  const chart = new Set(
    paths(parse(readFileSync(join(ROOT, 'helm/holdfast/values.yaml'), 'utf8'))),
  );
  /** Retired settings a page names on purpose, to say what replaced them. */
  const RETIRED = new Map([['throttle.trustProxy', 'http.trustedProxies (ADR 050)']]);
  /** Other libraries' options that share a first part with a setting, named where compared. */
  const FOREIGN = new Map([
    ['auth.scope', "a hapi route's auth option (roles become the scope, ADR 086)"],
    ['cookie.ttl', "@hapi/cookie's option (docs/api.md compares)"],
  ]);

  /** `oauth.<provider>.clientId`: a `<...>` segment stands for any key. */
  function exists(path: string): boolean {
    if (settings.has(path) || chart.has(path) || CHECK_IDS.includes(path)) return true;
    // `http.trustedProxies.<n>`: an element of a list setting.
    const list = /^(.+)\.<[a-z]+>$/.exec(path)?.[1];
    if (list && settings.has(list)) return true;
    if (!path.includes('<')) return false;
    const re = new RegExp(
      `^${path
        .split('.')
        .map((s) => (s.startsWith('<') ? '[^.]+' : s.replace(/[$()*+?[\]\\^{|}]/g, '\\$&')))
        .join('\\.')}$`,
    );
    return [...settings].some((p) => re.test(p));
  }

  it('every `a.b.c` whose first part is a setting is a setting, a check id or a chart value', () => {
    const unknown = named(/`([a-z][A-Za-z0-9]*(?:\.(?:[A-Za-z0-9]+|<[a-z]+>))+)`/g).filter(
      ([file, path]) =>
        tops.has(path.split('.')[0]) &&
        !/\.(ts|js|json|md|ya?ml|lua)$/.test(path) &&
        !exists(path) &&
        !FOREIGN.has(path) &&
        !(RETIRED.has(path) && /\b(old|retired|removed|was)\b/.test(readDoc(file))),
    );
    expect(unknown).toEqual([]);
  });

  it('every HOLDFAST_* variable names a setting (or the settings file, or a test harness switch)', () => {
    const harness = readdirSync(join(ROOT, 'test/harness'))
      .map((f) => readFileSync(join(ROOT, 'test/harness', f), 'utf8'))
      .join('\n');
    const unknown = named(/\b(HOLDFAST_[A-Z0-9_]*[A-Z0-9])\b/g).filter(([, name]) => {
      if (name === CONFIG_FILE_VAR) return false;
      if (harness.includes(`process.env.${name}`)) return false;
      const path = pathForEnvVar(name);
      return !path || !settings.has(path);
    });
    expect(unknown).toEqual([]);
  });
});

describe('options of holdfast commands in the docs', () => {
  /** `holdfast <command> ...` lines of code blocks and inline code spans, comments cut. */
  const lines = DOCS.flatMap(({ file, text }) => [
    ...[...text.matchAll(/^(?:\$ )?(holdfast [a-z].*)$/gm)].map((m) => ({ file, line: m[1] })),
    ...[...text.matchAll(/`(holdfast [a-z][^`]*)`/g)].map((m) => ({ file, line: m[1] })),
  ]).map(({ file, line }) => ({ file, line: line.split(' #')[0] }));

  async function help(words: string[]): Promise<string> {
    const printed: string[] = [];
    const out = (l: string) => printed.push(l);
    await main([...words, '--help'], { out, err: out, env: { NODE_ENV: 'test' } });
    return printed.join('\n');
  }

  it('finds the command lines (README usage, operations.md)', () => {
    expect(lines.length).toBeGreaterThan(10);
    expect(lines.map((l) => l.line)).toContain(
      'holdfast sessions revoke (--user <id> | --all) [--session <id>] [--yes] [--config <file>] [--json]',
    );
  });

  it("every --option is in the help of its command (or of holdfast's)", async () => {
    const missing: string[] = [];
    for (const { file, line } of lines) {
      const words = line.split(/\s+/).slice(1);
      const command = words.slice(0, words.findIndex((w) => !/^[a-z]+$/.test(w)) >>> 0);
      const usage = `${await help(command)}\n${await help([])}`;
      for (const option of line.match(/--[a-z][a-z-]*/g) ?? []) {
        if (!new RegExp(`${option}\\b`).test(usage))
          missing.push(`${file}: ${option} in "${line}"`);
      }
    }
    expect(missing).toEqual([]);
  });
});

function readDoc(file: string): string {
  return DOCS.find((d) => d.file === file)?.text ?? '';
}
