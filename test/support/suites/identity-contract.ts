/**
 * What every UserStore does with linked provider accounts (run on the memory store here and on a
 * Redis Cluster in test/integration/users): one account per provider per user, an identity
 * belongs to one user, a user sees every identity that signs them in, and unlinking is theirs only.
 */
import type { UserStore } from '../../../src/users';

let seq = 0;

export async function identityContract(users: UserStore): Promise<void> {
  const tag = `${process.pid}.${Date.now()}.${++seq}`;
  const a = await users.create({ email: `ida.${tag}@example.com`, passwordHash: 'h' });
  const b = await users.create({ email: `idb.${tag}@example.com`, passwordHash: 'h' });
  const sub = `s-${tag}`;
  expect(await users.listIdentities(a.id)).toEqual([]);

  expect(await users.linkIdentity('github', sub, a.id)).toBe(true);
  expect(await users.linkIdentity('github', sub, a.id)).toBe(true); // already so
  expect(await users.listIdentities(a.id)).toEqual([{ provider: 'github', subject: sub }]);
  expect((await users.findByIdentity('github', sub))?.id).toBe(a.id);

  // One account per provider per user: a second GitHub account is refused and claims nothing.
  expect(await users.linkIdentity('github', `${sub}-2`, a.id)).toBe(false);
  expect(await users.findByIdentity('github', `${sub}-2`)).toBeNull();
  // Another provider is fine.
  expect(await users.linkIdentity('google', sub, a.id)).toBe(true);

  // An identity of another user is refused, and b's record keeps no trace of the attempt.
  expect(await users.linkIdentity('github', sub, b.id)).toBe(false);
  expect(await users.listIdentities(b.id)).toEqual([]);
  expect(await users.linkIdentity('github', `${sub}-b`, b.id)).toBe(true);

  // Unlinking is the user's own: b cannot unlink a's identity.
  expect(await users.unlinkIdentity('google', b.id)).toBe(false);
  expect((await users.findByIdentity('google', sub))?.id).toBe(a.id);
  expect(await users.unlinkIdentity('github', a.id)).toBe(true);
  expect(await users.findByIdentity('github', sub)).toBeNull();
  expect(await users.listIdentities(a.id)).toEqual([{ provider: 'google', subject: sub }]);
  expect(await users.unlinkIdentity('github', a.id)).toBe(false);
  // Free again: another user may link it now.
  expect(await users.linkIdentity('github', sub, b.id)).toBe(false); // b already has one
  expect(await users.unlinkIdentity('github', b.id)).toBe(true);
  expect(await users.linkIdentity('github', sub, b.id)).toBe(true);
  expect((await users.findByIdentity('github', sub))?.id).toBe(b.id);

  // A user that does not exist gets no link (and no partial record).
  expect(await users.linkIdentity('github', `${sub}-x`, 'nobody-at-all')).toBe(false);
  expect(await users.findById('nobody-at-all')).toBeNull();
  expect(await users.findByIdentity('github', `${sub}-x`)).toBeNull();

  // clearPassword: the password is gone, the change time recorded.
  await users.clearPassword(a.id, 12345);
  expect(await users.findById(a.id)).toMatchObject({
    passwordHash: null,
    passwordChangedAt: 12345,
  });
}
