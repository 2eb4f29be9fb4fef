import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Loads the Lua scripts of src/store/lua (copied next to the compiled code by the build). One
 * script per file, named `<name>-<numKeys>.lua` (BullMQ's convention); shared helpers are inlined
 * where a script says `-- @include "includes/x.lua"`, each at most once, so no helper is copied.
 */
export interface LuaScript {
  readonly name: string;
  readonly numKeys: number;
  readonly lua: string;
  /** SHA-1 of `lua`, for EVALSHA. */
  readonly sha: string;
}

export const SCRIPT_NAMES = [
  'create',
  'touch',
  'rotate',
  'revoke',
  'revoke-user',
  'revoke-shard',
  'list-user',
  'sweep',
  'lease',
  'noop',
  'create-series',
  'use-series',
  'revoke-series',
  'reshard-freeze',
  'reshard-import',
  'reshard-release',
] as const;
export type ScriptName = (typeof SCRIPT_NAMES)[number];
export type ScriptSet = Readonly<Record<ScriptName, LuaScript>>;

export const LUA_DIR = join(__dirname, '..', 'lua');
const FILE = /^([a-z][a-z-]*)-(\d+)\.lua$/;
const INCLUDE = /^--\s*@include\s+"([^"]+)"\s*$/gm;

let cached: ScriptSet | undefined;

/** Every script, read once per process. Throws when one is missing: a broken build must not start. */
export function loadScripts(dir: string = LUA_DIR): ScriptSet {
  if (dir === LUA_DIR && cached) return cached;
  const set = loadScriptDir(dir, SCRIPT_NAMES);
  if (dir === LUA_DIR) cached = set;
  return set;
}

/**
 * The named scripts of one directory (the session engine's here, the user store's in
 * src/users/lua). Throws when one is missing.
 */
export function loadScriptDir<N extends string>(
  dir: string,
  names: readonly N[],
): Readonly<Record<N, LuaScript>> {
  const found = new Map<string, LuaScript>();
  for (const file of readdirSync(dir)) {
    const m = FILE.exec(file);
    if (!m) continue;
    const lua = resolveIncludes(dir, file, new Set(), []);
    const sha = createHash('sha1').update(lua).digest('hex');
    found.set(m[1], { name: m[1], numKeys: Number(m[2]), lua, sha });
  }
  const set = {} as Record<N, LuaScript>;
  for (const name of names) {
    const script = found.get(name);
    if (!script) throw new Error(`Lua script ${name}-<numKeys>.lua is missing from ${dir}`);
    set[name] = script;
  }
  return Object.freeze(set);
}

/** Inlines includes depth first; `seen` keeps each helper to one copy, `stack` catches cycles. */
function resolveIncludes(dir: string, file: string, seen: Set<string>, stack: string[]): string {
  if (stack.includes(file)) throw new Error(`Lua include cycle: ${[...stack, file].join(' -> ')}`);
  const text = readFileSync(join(dir, file), 'utf8');
  return text.replace(INCLUDE, (_line, included: string) => {
    if (seen.has(included)) return `-- (${included} already included)`;
    seen.add(included);
    const body = resolveIncludes(dir, included, seen, [...stack, file]);
    return `-- begin ${included}\n${body.trimEnd()}\n-- end ${included}`;
  });
}
