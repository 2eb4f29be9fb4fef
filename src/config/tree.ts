/** Plain trees of settings as they are read and merged, before and after validation. */
export type Tree = Record<string, unknown>;

/** Remembers where each path (and every path under it) came from, for problem messages. */
export function record(
  sources: Map<string, string>,
  tree: Tree,
  source: string,
  prefix = '',
): void {
  for (const [k, v] of Object.entries(tree)) {
    const path = prefix ? `${prefix}.${k}` : k;
    sources.set(path, source);
    if (v && typeof v === 'object' && !Array.isArray(v)) record(sources, v as Tree, source, path);
  }
}

export function setPath(tree: Tree, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = tree;
  for (const p of parts.slice(0, -1)) {
    if (!node[p] || typeof node[p] !== 'object') node[p] = {};
    node = node[p] as Tree;
  }
  node[parts[parts.length - 1]] = value;
}

export function merge(base: Tree, over: Tree): Tree {
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

/** Freezes an object and everything under it: settings never change after loading. */
export function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
