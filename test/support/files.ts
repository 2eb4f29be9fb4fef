import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

/** Helpers for tests that read the repository's own files (docs, src, scripts). */

/** The repository root. */
export const ROOT = join(__dirname, '..', '..');
export const SRC = join(ROOT, 'src');

/** Every file below `dir` whose name ends with `suffix` (`.ts`, `.md`), depth first. */
export function filesUnder(dir: string, suffix: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? filesUnder(join(dir, e.name), suffix)
      : e.name.endsWith(suffix)
        ? [join(dir, e.name)]
        : [],
  );
}

/** The pages of docs/ (ADRs included) and README.md, as `{ file (from the root), text }`. */
export function docPages(): Array<{ file: string; text: string }> {
  return [...filesUnder(join(ROOT, 'docs'), '.md'), join(ROOT, 'README.md')].map((file) => ({
    file: relative(ROOT, file),
    text: readFileSync(file, 'utf8'),
  }));
}
