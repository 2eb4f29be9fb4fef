/**
 * The one helper for `__Host-` names and the one for keys derived from cookie.password. The keys
 * are pinned: a change would invalidate every crumb, OAuth state and intent cookie in flight at a
 * rolling deploy, and a test must say so. src has no other `__Host-` or HKDF use.
 */
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cookieNames, cookiePasswordKey, hostPrefixed } from '../../../src/auth';
import { filesUnder, SRC } from '../../support/files';

const PASSWORD = 'holdfast-test-only-password-not-a-secret!';

describe('hostPrefixed', () => {
  it('puts __Host- in front of a Secure cookie only', () => {
    expect(hostPrefixed({ secure: true }, 'holdfast_oauth_intent')).toBe(
      '__Host-holdfast_oauth_intent',
    );
    expect(hostPrefixed({ secure: false }, 'holdfast_oauth_intent')).toBe('holdfast_oauth_intent');
  });

  it('names the session and remember-me cookies', () => {
    const c = { secure: true, name: 'hf', rememberName: 'hf_r', sameSite: 'Lax' as const };
    expect(cookieNames(c)).toEqual({ session: '__Host-hf', remember: '__Host-hf_r' });
    expect(cookieNames({ ...c, secure: false })).toEqual({ session: 'hf', remember: 'hf_r' });
  });
});

describe('cookiePasswordKey', () => {
  it('derives the same keys as before it was one helper (HKDF-SHA-256, salt holdfast)', () => {
    expect(cookiePasswordKey(PASSWORD, 'csrf-crumb-v1').toString('hex')).toBe(
      '1295b6b0457c03c9b45cd15c1cb031ff1cefccca9834d0103b5a0df8e9d97620',
    );
    expect(cookiePasswordKey(PASSWORD, 'oauth-state-v1').toString('hex')).toBe(
      'fe8e402b273e4d2ec8f5277ea1378d6c4e4c5f1b13e13de3241f41b8bc3c46c7',
    );
    expect(cookiePasswordKey(PASSWORD, 'oauth-intent-v1').toString('hex')).toBe(
      'f0c142d73e4993e527d4870def0445e4c55a29b7d4af42aef79bc5241a74effa',
    );
  });

  it('gives each purpose and each password its own key', () => {
    const keys = new Set(
      [PASSWORD, `${PASSWORD}x`].flatMap((pw) =>
        (['csrf-crumb-v1', 'oauth-state-v1', 'oauth-intent-v1'] as const).map((p) =>
          cookiePasswordKey(pw, p).toString('hex'),
        ),
      ),
    );
    expect(keys.size).toBe(6);
  });
});

it('src writes __Host- and derives keys only in src/auth/cookies.ts', () => {
  const users = filesUnder(SRC, '.ts')
    .filter((f) => /__Host-|hkdf/i.test(readFileSync(f, 'utf8').replace(/^\s*(\/\/|\*).*$/gm, '')))
    .map((f) => relative(SRC, f));
  expect(users).toEqual([join('auth', 'cookies.ts')]);
});
