/**
 * docs/security.md's "Claims and the tests that prove them": every claim names at least one test
 * as `file` › `title`, and each named file exists and declares a test (or describe block) with
 * exactly that title. Renaming or deleting a test that proves a claim fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const DOC = readFileSync(join(ROOT, 'docs/security.md'), 'utf8');

/** ASVS 5.0 chapter V7: every requirement is claimed (met, n/a or TODO) somewhere. */
const V7 = [
  '7.1.1',
  '7.1.2',
  '7.1.3',
  '7.2.1',
  '7.2.2',
  '7.2.3',
  '7.2.4',
  '7.3.1',
  '7.3.2',
  '7.4.1',
  '7.4.2',
  '7.4.3',
  '7.4.4',
  '7.4.5',
  '7.5.1',
  '7.5.2',
  '7.5.3',
  '7.6.1',
  '7.6.2',
];

interface Row {
  claim: string;
  test: string;
}

/** The `| Claim | Test |` rows between `## <heading>` and the next `## `. */
function rows(heading: string): Row[] {
  const start = DOC.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`docs/security.md has no "## ${heading}" section`);
  const end = DOC.indexOf('\n## ', start + 1);
  const section = DOC.slice(start, end < 0 ? undefined : end);
  return section
    .split('\n')
    .filter((l) => l.startsWith('| ') && !l.startsWith('| Claim |') && !l.startsWith('| ---'))
    .map((l) => {
      const cells = l.slice(2, -2).split(' | ');
      if (cells.length !== 2) throw new Error(`not a two-cell row: ${l}`);
      return { claim: cells[0], test: cells[1] };
    });
}

function references(cell: string): Array<{ file: string; title: string }> {
  return [...cell.matchAll(/`([^`]+\.ts)` › `([^`]+)`/g)].map((m) => ({
    file: m[1],
    title: m[2],
  }));
}

function declares(source: string, title: string): boolean {
  const escaped = title.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`\\b(?:test|it|describe)\\(\\s*(['"\`])${escaped}\\1`).test(source);
}

const proven = rows('Claims and the tests that prove them');
const todo = rows('TODO: claims whose tests are being written');

test('every claim names at least one test, and none is a TODO', () => {
  expect(proven.length).toBeGreaterThan(30);
  for (const r of proven) {
    expect([r.claim, references(r.test).length > 0]).toEqual([r.claim, true]);
    expect([r.claim, /TODO/.test(r.test)]).toEqual([r.claim, false]);
    // Nothing but references in the cell: a typo in the separator would hide a test.
    expect([r.claim, r.test.replace(/`[^`]+\.ts` › `[^`]+`(; )?/g, '')]).toEqual([r.claim, '']);
  }
});

test('every named test file exists and declares a test with exactly the named title', () => {
  const missing: string[] = [];
  for (const r of proven) {
    for (const { file, title } of references(r.test)) {
      const path = join(ROOT, file);
      if (!existsSync(path)) {
        missing.push(`${file} (no such file)`);
        continue;
      }
      if (!declares(readFileSync(path, 'utf8'), title)) missing.push(`${file} › ${title}`);
    }
  }
  expect(missing).toEqual([]);
});

test('the TODO list says TODO in every row', () => {
  for (const r of todo)
    expect([r.claim, r.test]).toEqual([r.claim, expect.stringMatching(/^TODO/)]);
});

test('every ASVS 5.0 V7 requirement is claimed, proven or on the TODO list', () => {
  const claims = [...proven, ...todo].map((r) => r.claim).join('\n');
  const absent = V7.filter((id) => !new RegExp(`V${id.replace(/\./g, '\\.')}\\b`).test(claims));
  expect(absent).toEqual([]);
});

test('the checker itself: a title that no test declares is found missing', () => {
  const source = "test('a real title', async () => {});\nit(\n  \"it's another\",\n  () => {},\n);";
  expect(declares(source, 'a real title')).toBe(true);
  expect(declares(source, "it's another")).toBe(true);
  expect(declares(source, 'a real')).toBe(false);
  expect(declares(source, 'a real title!')).toBe(false);
  expect(references('`a/b.ts` › `x`; `c.ts` › `y (z)`')).toEqual([
    { file: 'a/b.ts', title: 'x' },
    { file: 'c.ts', title: 'y (z)' },
  ]);
});
