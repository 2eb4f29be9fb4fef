import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The user store's Lua scripts (src/users/lua, copied next to the compiled code by the build). */
export type UserScriptName = 'claim-identity-field' | 'release-identity-field' | 'release-identity';

const DIR = join(__dirname, 'lua');
const loaded = new Map<UserScriptName, string>();

/** A script's text, read once on first use (every one of them takes one key). */
export function userScript(name: UserScriptName): string {
  let lua = loaded.get(name);
  if (lua === undefined) {
    lua = readFileSync(join(DIR, `${name}-1.lua`), 'utf8');
    loaded.set(name, lua);
  }
  return lua;
}
