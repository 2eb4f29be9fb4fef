import { randomBytes, scryptSync } from 'node:crypto';
import { PasswordHasher } from '../../../src/users';

test('scrypt hash encodes its parameters and verifies only the right password', async () => {
  const h = new PasswordHasher(4096);
  const hash = await h.hash('correct horse');
  expect(hash).toMatch(/^\$scrypt\$ln=12,r=8,p=1\$[A-Za-z0-9+/=]{24}\$[A-Za-z0-9+/=]{44}$/);
  expect(await h.verify('correct horse', hash)).toEqual({ ok: true, needsRehash: false });
  expect((await h.verify('correct horsf', hash)).ok).toBe(false);
  expect((await h.verify('correct horse', 'garbage')).ok).toBe(false);
});

test('a hash made with another cost still verifies and asks for a rehash', async () => {
  const old = await new PasswordHasher(2048).hash('pw pw pw pw');
  expect(await new PasswordHasher(4096).verify('pw pw pw pw', old)).toEqual({
    ok: true,
    needsRehash: true,
  });
});

test('NFC: a password typed in another Unicode form still matches', async () => {
  const h = new PasswordHasher(1024);
  const hash = await h.hash('café password'.normalize('NFD'));
  expect((await h.verify('café password'.normalize('NFC'), hash)).ok).toBe(true);
});

test('the OWASP cost (N=2^17) works within Node scrypt memory limits', async () => {
  const h = new PasswordHasher(2 ** 17);
  const hash = await h.hash('x');
  expect(hash.startsWith('$scrypt$ln=17,r=8,p=1$')).toBe(true);
});

test('verifyDummy always fails, and asks for nothing to be stored', async () => {
  const h = new PasswordHasher(1024);
  expect(await h.verifyDummy('anything')).toEqual({ ok: false, needsRehash: false });
  expect(await h.verifyDummy('')).toEqual({ ok: false, needsRehash: false });
});

/** A hash in the stored format, made here with node:crypto directly (another writer's parameters). */
function foreignHash(password: string, ln: number, r: number, p: number, keyBytes: number): string {
  const salt = randomBytes(16);
  const key = scryptSync(password, salt, keyBytes, { N: 2 ** ln, r, p, maxmem: 512 * 2 ** 20 });
  return `$scrypt$ln=${ln},r=${r},p=${p}$${salt.toString('base64')}$${key.toString('base64')}`;
}

test('hashes made with other r, p and key length (two-digit parameters) verify and ask for a rehash', async () => {
  const h = new PasswordHasher(1024);
  for (const [ln, r, p, keyBytes] of [
    [10, 16, 1, 32],
    [10, 8, 12, 32],
    [10, 8, 1, 64],
  ]) {
    const stored = foreignHash('pw pw pw pw', ln, r, p, keyBytes);
    const keyOnly = keyBytes === 64 && r === 8 && p === 1;
    expect(await h.verify('pw pw pw pw', stored)).toEqual({ ok: true, needsRehash: !keyOnly });
    expect((await h.verify('pw pw pw pX', stored)).ok).toBe(false);
  }
});

test('the limits of what verifies: N from 2, r from 1, a 16-byte key; N past 2^20 is refused', async () => {
  const h = new PasswordHasher(1024);
  for (const [ln, r, p, keyBytes] of [
    [1, 8, 1, 32],
    [10, 1, 1, 32],
    [10, 8, 1, 16],
  ]) {
    const stored = foreignHash('pw pw pw pw', ln, r, p, keyBytes);
    expect([stored, (await h.verify('pw pw pw pw', stored)).ok]).toEqual([stored, true]);
  }
  // One step past the largest cost: refused without computing it.
  const [, , , salt, key] = foreignHash('pw pw pw pw', 10, 1, 1, 32).split('$');
  expect(await h.verify('pw pw pw pw', `$scrypt$ln=21,r=1,p=1$${salt}$${key}`)).toEqual({
    ok: false,
    needsRehash: true,
  });
});

test('a hash with a short salt verifies and asks for a rehash', async () => {
  const h = new PasswordHasher(1024);
  const salt = randomBytes(8);
  const key = scryptSync('pw pw pw pw', salt, 32, { N: 1024, r: 8, p: 1 });
  const stored = `$scrypt$ln=10,r=8,p=1$${salt.toString('base64')}$${key.toString('base64')}`;
  expect(await h.verify('pw pw pw pw', stored)).toEqual({ ok: true, needsRehash: true });
});

test('malformed or unsafe stored hashes never match, never throw, and ask for a rehash', async () => {
  const h = new PasswordHasher(1024);
  const good = await h.hash('pw pw pw pw');
  const [, , params, salt, key] = good.split('$');
  const shortKey = Buffer.from(key, 'base64').subarray(0, 8).toString('base64');
  for (const stored of [
    'garbage',
    '',
    `x${good}`, // anything around the format
    `${good}x`,
    `${good}\n`,
    `$scrypt$ln=0,r=8,p=1$${salt}$${key}`, // N = 1: no work at all
    `$scrypt$ln=40,r=8,p=1$${salt}$${key}`, // beyond any sane cost: must not try
    `$scrypt$ln=99,r=8,p=1$${salt}$${key}`,
    `$scrypt$ln=10,r=0,p=1$${salt}$${key}`,
    `$scrypt$ln=10,r=8,p=0$${salt}$${key}`,
    `$scrypt$${params}$${salt}$${shortKey}`, // a truncated key is easier to collide with
    `$scrypt$${params}$${salt}`,
  ]) {
    expect(await h.verify('pw pw pw pw', stored)).toEqual({ ok: false, needsRehash: true });
  }
});

test('the cost must be a power of two of at least 2, and the error names the setting', () => {
  for (const bad of [0, 1, 1000, 3, 2.5, -4]) {
    expect(() => new PasswordHasher(bad)).toThrow(RangeError);
    expect(() => new PasswordHasher(bad)).toThrow(
      `password.cost must be a power of two, got ${bad}`,
    );
  }
  expect(new PasswordHasher(2).cost).toBe(2);
});

test('each hash has its own random salt: the same password hashes differently', async () => {
  const h = new PasswordHasher(1024);
  const [a, b] = [await h.hash('same password'), await h.hash('same password')];
  expect(a).not.toBe(b);
  expect(a.split('$')[3]).not.toBe(b.split('$')[3]);
  expect(Buffer.from(a.split('$')[3], 'base64')).toHaveLength(16);
});

test('the largest cost password.cost allows (N = 2^20) still verifies', async () => {
  // Made once with node:crypto (r = 2: scrypt needs N < 2^(16 r)); 256 MiB to verify.
  const stored =
    '$scrypt$ln=20,r=2,p=1$e9pHaPsZC8mAB6J3eyg4cw==$Zr2OwPa1Rl8SEsOblq2e40iVf0VVIG2VtlVYGkqwlGg=';
  expect(await new PasswordHasher(1024).verify('pw pw pw pw', stored)).toEqual({
    ok: true,
    needsRehash: true,
  });
});
