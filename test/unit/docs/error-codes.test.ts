/**
 * Every error code of src/errors/codes.ts is raised somewhere in src: a code nobody raises is a
 * promise docs/errors.md makes and the code does not keep (test/unit/errors/docs.test.ts keeps
 * the page and the list equal). "Raised" means one of the forms that reach an operator or a
 * client: an error constructed with the code, a default code of an error class, a payload code,
 * or a CLI line `holdfast: <CODE> ...`. A comparison (`code === 'HF_X'`), a status table entry
 * or a mention in an OpenAPI description does not count.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ErrorCodes } from '../../../src/errors';
import { filesUnder, SRC } from '../../support/files';

const RAISING = [
  // new HoldfastError('HF_X', ...), new BusyError(...) -> super('HF_X', ...)
  /(?:new \w*Error|super)\(\s*'(HF_[A-Z_]+)'/g,
  // the code argument after a problem list: new ConfigError([...], 'HF_CONFIG_FILE')
  /new ConfigError\((?:[^;]*?),\s*'(HF_[A-Z_]+)',?\s*\)/gs,
  // a default code (`code: 'A' | 'B' = 'A'`) or a payload's (`payload.code = 'HF_X'`)
  /\bcode\s*(?::[^=;)]*)?=\s*'(HF_[A-Z_]+)'/g,
  // one CLI line on stderr
  /holdfast: (HF_[A-Z_]+) /g,
];

/** code -> the files that raise it. */
function raisedCodes(root = SRC): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const file of filesUnder(root, '.ts')) {
    if (file.endsWith(join('errors', 'codes.ts'))) continue;
    const text = readFileSync(file, 'utf8');
    for (const re of RAISING) {
      for (const m of text.matchAll(re)) {
        const where = out.get(m[1]) ?? [];
        where.push(relative(root, file));
        out.set(m[1], where);
      }
    }
  }
  return out;
}

describe('error codes', () => {
  const raised = raisedCodes();

  it('every code of src/errors/codes.ts is raised somewhere in src', () => {
    const never = Object.keys(ErrorCodes).filter((code) => !raised.has(code));
    expect(never).toEqual([]);
  });

  it('src raises no code that src/errors/codes.ts does not list', () => {
    const unlisted = [...raised.keys()].filter((code) => !Object.hasOwn(ErrorCodes, code));
    expect(unlisted).toEqual([]);
  });

  it('recognises each way a code is raised, and not a comparison', () => {
    // The scanner itself: known raise sites are found where they are.
    expect(raised.get('HF_STORE_SCRIPT')).toContain(join('store', 'redis', 'store-errors.ts'));
    expect(raised.get('HF_CONFIG_FILE')).toContain(join('config', 'load.ts'));
    expect(raised.get('HF_CONFIG_INVALID')).toContain(join('errors', 'config-error.ts'));
    expect(raised.get('HF_INTERNAL')).toEqual(
      expect.arrayContaining([join('plugin', 'index.ts'), join('cli', 'output.ts')]),
    );
    expect(raised.get('HF_WORKER_CRASH_LOOP')).toEqual([join('server', 'primary.ts')]);
    // cli/output.ts only compares with HF_PREFLIGHT_FAILED; primary.ts prints it, and library
    // mode's runPreflight throws it.
    expect(raised.get('HF_PREFLIGHT_FAILED')).toEqual([
      join('preflight', 'error.ts'),
      join('server', 'primary.ts'),
    ]);
  });
});
