import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * The CLI is a thin adapter over the services that src/server/services.ts builds: it never
 * reaches into the hapi plugin or the auth scheme, nor builds stores or services of its own.
 */
const CLI = path.join(__dirname, '../../../src/cli');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? files(full) : full.endsWith('.ts') ? [full] : [];
  });
}

test('src/cli imports no plugin, auth, store or session module, and builds services only through createServices', () => {
  const found: string[] = [];
  for (const file of files(CLI)) {
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from|import\(?)\s*'(\.{1,2}\/[^']+)'/g)) {
      const target = path.relative(path.join(CLI, '..'), path.resolve(path.dirname(file), m[1]));
      if (/^(plugin|auth|accounts|store|session)(\/|$)/.test(target)) {
        found.push(`${path.relative(CLI, file)} imports ${m[1]}`);
      }
    }
    if (/new (SessionService|AccountService|RedisUserStore|MemoryUserStore)\b/.test(text)) {
      found.push(`${path.relative(CLI, file)} builds a service itself`);
    }
  }
  expect(found).toEqual([]);
});
