import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Description } from 'joi';
import { schema } from '../../../src/config/schema';

/** Leaf setting paths of the schema: `store.redis.durability.replicas`, ... */
function leaves(d: Description, prefix = ''): string[] {
  const keys = (d as { keys?: Record<string, Description> }).keys;
  if (d.type !== 'object' || !keys || prefix.endsWith('natMap')) return prefix ? [prefix] : [];
  return Object.entries(keys).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
}

/** Setting paths named in the first column of docs/configuration.md's table. */
function documented(): Set<string> {
  const text = readFileSync(join(__dirname, '../../../docs/configuration.md'), 'utf8');
  const out = new Set<string>();
  for (const line of text.split('\n')) {
    const cell = /^\| (`[^|]+) \|/.exec(line)?.[1];
    if (!cell) continue;
    const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
    // `a.b.c` / `d` and `a.b.c` / `.d` name siblings of the first.
    const base = names[0].slice(0, names[0].lastIndexOf('.') + 1);
    names.forEach((n, i) =>
      out.add(i === 0 || (n.includes('.') && !n.startsWith('.')) ? n : base + n.replace(/^\./, '')),
    );
  }
  return out;
}

describe('docs/configuration.md', () => {
  it('lists every setting of the schema, and no other', () => {
    const inSchema = leaves(schema.describe()).sort();
    const inDocs = [...documented()].sort();
    expect(inDocs).toEqual(inSchema);
  });
});
