import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

/**
 * Dependencies point one way (docs/architecture.md): a module imports only from its own folder or
 * from lower layers. Folders in one layer do not import each other. (`make lint` also rejects
 * import cycles with madge; this test rejects upward imports that would not yet form a cycle.)
 */
const LAYERS: readonly (readonly string[])[] = [
  ['errors', 'log'],
  ['config'],
  ['store', 'mail'],
  ['session', 'users'],
  ['accounts'],
  ['auth'],
  ['plugin'],
  ['preflight'],
  ['health'],
  ['metrics'],
  ['server'],
  ['cli'],
];
const SRC = resolve(__dirname, '../../src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

function layerOf(folder: string): number {
  const i = LAYERS.findIndex((l) => l.includes(folder));
  if (i < 0)
    throw new Error(`src/${folder} is in no layer: add it to LAYERS and docs/architecture.md`);
  return i;
}

test('every import in src/ points to the same folder or a lower layer', () => {
  const upward: string[] = [];
  for (const file of files(SRC)) {
    const from = relative(SRC, file).split('/')[0];
    if (!from.endsWith('.ts')) layerOf(from);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\()\s*'(\.{1,2}\/[^']+)'/g)) {
      const to = relative(SRC, resolve(dirname(file), m[1])).split('/')[0];
      if (from.endsWith('.ts') || to === from) continue; // src/index.ts is the package surface
      if (layerOf(to) >= layerOf(from)) upward.push(`${relative(SRC, file)} imports ${m[1]}`);
    }
  }
  expect(upward).toEqual([]);
});
