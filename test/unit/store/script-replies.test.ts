import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  REPLY_CODES,
  Reply,
  SeriesReply,
  UserReply,
} from '../../../src/store/redis/script-replies';
import { filesUnder, SRC } from '../../support/files';

const DIRS = [join(SRC, 'store/lua'), join(SRC, 'users/lua')];

/** `[file, n]` for every `return n` and `return { n, ...}` of the scripts and their includes. */
function returnedCodes(): Array<[string, number]> {
  const out: Array<[string, number]> = [];
  for (const dir of DIRS) {
    for (const file of filesUnder(dir, '.lua')) {
      const lua = readFileSync(file, 'utf8').replace(/--\[\[[\s\S]*?\]\]|--.*$/gm, '');
      for (const m of lua.matchAll(/\breturn\s*\{?\s*(-?\d+)\b/g)) out.push([file, Number(m[1])]);
    }
  }
  return out;
}

describe('Lua reply codes', () => {
  it('every number a script returns is a named reply code', () => {
    const codes = returnedCodes();
    expect(codes.length).toBeGreaterThan(20);
    expect(codes.filter(([, n]) => !REPLY_CODES.has(n))).toEqual([]);
  });

  it('the names keep the values the scripts return (their headers)', () => {
    expect(Reply).toEqual({
      APPLIED: 1,
      NOT_APPLIED: 0,
      MALFORMED: -1,
      STALE_CREDENTIALS: -2,
      MOVING: -3,
      MOVED: -4,
    });
    expect(SeriesReply).toEqual({ ROTATED: 1, GRACE: 2, THEFT: 3, MISSING: 0, MALFORMED: -1 });
    expect(UserReply).toEqual({ DONE: 1, NOT_DONE: 0, NO_SUCH_USER: -1, CHANGED_MEANWHILE: -2 });
  });

  it('TypeScript compares script replies with the names, never a bare number', () => {
    const callers = [
      join(SRC, 'store/redis/redis-engine.ts'),
      join(SRC, 'users/redis-user-store.ts'),
    ];
    for (const file of callers) {
      const text = readFileSync(file, 'utf8');
      const bare = [
        ...text.matchAll(/\b(?:reply|code|r|r\[0\]|recorded|\))\s*[!=]==\s*-?\d+\b|case -?\d+:/g),
      ];
      expect({ file, bare: bare.map((m) => m[0]) }).toEqual({ file, bare: [] });
    }
  });
});
