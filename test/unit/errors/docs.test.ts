import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ErrorCodes } from '../../../src/errors';
import { CHECK_IDS } from '../../../src/preflight';

/** docs/errors.md and the code must list the same error codes and the same preflight checks. */
const DOC = readFileSync(path.join(__dirname, '../../../docs/errors.md'), 'utf8');

/** The `### name` headings under the `## <title>` section. */
function headings(title: string): string[] {
  const start = DOC.indexOf(`\n## ${title}\n`);
  if (start < 0) throw new Error(`docs/errors.md has no "## ${title}" section`);
  const rest = DOC.slice(start + title.length + 5);
  const end = rest.search(/\n## /);
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^### (\S+)\s*$/gm)].map((m) => m[1]);
}

function difference(a: readonly string[], b: readonly string[]): string[] {
  return a.filter((x) => !b.includes(x));
}

describe('docs/errors.md', () => {
  const documentedCodes = headings('Error codes');
  const documentedChecks = headings('Preflight checks');

  test('documents every error code of src/errors/codes.ts', () => {
    expect(difference(Object.keys(ErrorCodes), documentedCodes)).toEqual([]);
  });

  test('documents no error code that the code does not have', () => {
    expect(difference(documentedCodes, Object.keys(ErrorCodes))).toEqual([]);
  });

  test('documents every preflight check id of the catalogue', () => {
    expect(difference(CHECK_IDS, documentedChecks)).toEqual([]);
  });

  test('documents no check id that the catalogue does not have', () => {
    expect(difference(documentedChecks, CHECK_IDS)).toEqual([]);
  });

  test('lists the checks in the order they run, each once', () => {
    expect(documentedChecks).toEqual([...CHECK_IDS]);
  });

  test('every section has text beyond its heading', () => {
    for (const name of [...documentedCodes, ...documentedChecks]) {
      const at = DOC.indexOf(`### ${name}\n`);
      const body = DOC.slice(at + name.length + 5).split(/\n### |\n## /)[0];
      expect({ name, length: body.trim().length > 40 }).toEqual({ name, length: true });
    }
  });
});
