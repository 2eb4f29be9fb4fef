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

test('verifyDummy always fails', async () => {
  expect((await new PasswordHasher(1024).verifyDummy('anything')).ok).toBe(false);
});
