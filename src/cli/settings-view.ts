import type Joi from 'joi';
import { formatDuration, redactedSettings, Settings } from '../config';
import { schema } from '../config/schema';

type Tree = Record<string, unknown>;

/** Paths of every duration setting, read from the schema so a new one is rendered without a list. */
export function durationPaths(
  description: Joi.Description = schema.describe(),
  prefix = '',
): string[] {
  const keys = (description.keys ?? {}) as Record<string, Joi.Description>;
  return Object.entries(keys).flatMap(([key, d]) => {
    const path = prefix ? `${prefix}.${key}` : key;
    const rules = (d.rules ?? []) as { name: string; args?: { description?: string } }[];
    if (rules.some((r) => r.name === 'custom' && r.args?.description === 'duration')) return [path];
    return d.type === 'object' ? durationPaths(d, path) : [];
  });
}

/**
 * The resolved settings as an operator would write them: secrets redacted, durations as `30m` or
 * `7d` instead of milliseconds (the output reads back as a settings file).
 */
export function settingsView(settings: Settings): Tree {
  const shown = redactedSettings(settings) as Tree;
  for (const path of durationPaths()) {
    const parts = path.split('.');
    let node: Tree | undefined = shown;
    for (const p of parts.slice(0, -1)) node = node?.[p] as Tree | undefined;
    const last = parts[parts.length - 1];
    if (node && typeof node[last] === 'number') node[last] = formatDuration(node[last]);
  }
  return shown;
}
