/**
 * What CI relies on from the test runner itself: with the project's jest settings (forceExit and
 * the open-handles reporter), a run with a failing test exits non-zero, a run that leaves a timer
 * ticking exits non-zero and names it, and a tidy run exits 0. A reporter that ended the process
 * before jest set its exit code once let a failing run pass (ADR 270). Real jest processes on
 * fixture files in a temporary directory.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

jest.setTimeout(60_000);

const ROOT = resolve(__dirname, '../../..');

/** Runs jest in band, as CI does on 2 cores, on one fixture test file with the project's settings. */
function runJest(testSource: string): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-jest-exit-'));
  try {
    writeFileSync(join(dir, 'fixture.test.js'), testSource);
    writeFileSync(
      join(dir, 'jest.config.js'),
      `const base = require(${JSON.stringify(join(ROOT, 'jest.config.js'))});
module.exports = {
  ...base,
  rootDir: ${JSON.stringify(dir)},
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.js'],
  transform: {},
  reporters: ['default', ${JSON.stringify(join(ROOT, 'test/harness/open-handles-reporter.js'))}],
  globalSetup: undefined,
  globalTeardown: undefined,
};
`,
    );
    const run = spawnSync(
      process.execPath,
      [join(ROOT, 'node_modules/jest/bin/jest.js'), '--ci', '--runInBand', '-c', 'jest.config.js'],
      { cwd: dir, encoding: 'utf8', timeout: 50_000, env: { ...process.env, FORCE_COLOR: '0' } },
    );
    return { status: run.status, output: `${run.stdout}${run.stderr}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a failing test makes the run exit 1', () => {
  const run = runJest(`test('fails', () => { expect(1 + 1).toBe(3); });\n`);
  expect(run.output).toContain('Tests:       1 failed, 1 total');
  expect(run.status).toBe(1);
});

test('a timer left ticking makes a passing run exit 1, named by its delay and code', () => {
  const run = runJest(`test('leaks', () => { setInterval(function leftBehind() {}, 777); });\n`);
  expect(run.output).toContain('Tests:       1 passed, 1 total');
  expect(run.output).toMatch(/777 ms timer \(repeating\): function leftBehind\(\) \{ ?\}/);
  expect(run.status).toBe(1);
});

test('a tidy passing run exits 0', () => {
  const run = runJest(`test('passes', () => { expect(1 + 1).toBe(2); });\n`);
  expect(run.output).toContain('Tests:       1 passed, 1 total');
  expect(run.status).toBe(0);
});
