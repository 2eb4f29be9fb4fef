import { SECRET_PATHS } from './defaults';
import type { Settings } from './settings';
import type { Tree } from './tree';

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
