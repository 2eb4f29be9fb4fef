/**
 * The UserStore contract for credentials (ADR 040): one suite, run against the memory store (unit)
 * and the Redis store on a cluster (integration). Password writes are compare-and-set, so a
 * re-hash never writes an old password over a newer one and of two racing changes one applies.
 */
import type { UserStore } from '../../../src/users';

let seq = 0;
const email = () => `cred.${process.pid}.${Date.now()}.${++seq}@example.com`;
const rehash = { bumpVersion: false, changedAt: 1 };
const change = { bumpVersion: true, changedAt: 2 };

export function userStoreContract(name: string, make: () => UserStore): void {
  describe(`UserStore credentials (${name})`, () => {
    let users: UserStore;
    beforeAll(() => {
      users = make();
    });

    test('a new user has credential version 0 and is not disabled', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h0' });
      expect(u).toMatchObject({ credentialVersion: 0, disabled: false });
      expect(await users.findById(u.id)).toEqual(u);
    });

    test('a re-hash applies only over the hash it verified and keeps the version', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h0' });
      expect(await users.updatePassword(u.id, { expectedHash: 'h0' }, 'h0-strong', rehash)).toBe(0);
      expect(await users.findById(u.id)).toMatchObject({
        passwordHash: 'h0-strong',
        credentialVersion: 0,
      });
      // The hash it verified is gone: nothing written.
      expect(await users.updatePassword(u.id, { expectedHash: 'h0' }, 'h0-again', rehash)).toBe(
        null,
      );
      expect((await users.findById(u.id))?.passwordHash).toBe('h0-strong');
    });

    test('a change applies only at the version it read and raises it; a later re-hash of the old password writes nothing', async () => {
      const u = await users.create({ email: email(), passwordHash: 'old' });
      expect(await users.updatePassword(u.id, { expectedVersion: 0 }, 'new', change)).toBe(1);
      expect(await users.findById(u.id)).toMatchObject({
        passwordHash: 'new',
        credentialVersion: 1,
        passwordChangedAt: 2,
      });
      // The login that verified `old` before the change re-hashes it after: refused.
      expect(await users.updatePassword(u.id, { expectedHash: 'old' }, 'old-strong', rehash)).toBe(
        null,
      );
      expect(await users.updatePassword(u.id, { expectedVersion: 0 }, 'other', change)).toBe(null);
      expect((await users.findById(u.id))?.passwordHash).toBe('new');
    });

    test('of ten changes racing from one version, exactly one applies', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h' });
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          users.updatePassword(u.id, { expectedVersion: 0 }, `h${i}`, change),
        ),
      );
      expect(results.filter((r) => r === 1)).toHaveLength(1);
      expect(results.filter((r) => r === null)).toHaveLength(9);
      const winner = results.indexOf(1);
      expect(await users.findById(u.id)).toMatchObject({
        passwordHash: `h${winner}`,
        credentialVersion: 1,
      });
    });

    test('disable marks the user and raises the version; a change that read before it fails', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h' });
      expect(await users.disable(u.id)).toBe(1);
      expect(await users.findById(u.id)).toMatchObject({ disabled: true, credentialVersion: 1 });
      expect(await users.updatePassword(u.id, { expectedVersion: 0 }, 'x', change)).toBe(null);
      expect(await users.disable('no-such-user')).toBe(null);
    });

    test('delete removes the record and frees the address; nothing can write to it after', async () => {
      const address = email();
      const u = await users.create({ email: address, passwordHash: 'h' });
      await users.updatePassword(u.id, { expectedVersion: 0 }, 'h2', change);
      expect(await users.linkIdentity('github', `sub-${u.id}`, u.id)).toBe(true);
      expect(await users.delete(u.id)).toBe(1);
      expect(await users.findById(u.id)).toBeNull();
      expect(await users.findByEmail(address)).toBeNull();
      expect(await users.findByIdentity('github', `sub-${u.id}`)).toBeNull();
      expect(await users.updatePassword(u.id, { expectedVersion: 1 }, 'h3', change)).toBe(null);
      expect(await users.findById(u.id)).toBeNull();
      expect(await users.delete(u.id)).toBe(null);
      const again = await users.create({ email: address, passwordHash: 'h' });
      expect(again.id).not.toBe(u.id);
      expect((await users.findByEmail(address))?.id).toBe(again.id);
    });

    test('enable clears the flag and keeps the credential version; an unknown user is not created', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h' });
      expect(await users.disable(u.id)).toBe(1);
      expect(await users.enable(u.id)).toBe(true);
      expect(await users.findById(u.id)).toMatchObject({ disabled: false, credentialVersion: 1 });
      expect(await users.enable(u.id)).toBe(true);
      expect(await users.findById(u.id)).toMatchObject({ disabled: false, credentialVersion: 1 });
      expect(await users.enable('no-such-user')).toBe(false);
      expect(await users.findById('no-such-user')).toBeNull();
    });

    test('delete releases every linked identity (ADR 150): each can be linked to another user, and another user is never unlinked', async () => {
      const u = await users.create({ email: email(), passwordHash: 'h' });
      const other = await users.create({ email: email(), passwordHash: 'h' });
      expect(await users.linkIdentity('github', `gh-${u.id}`, u.id)).toBe(true);
      expect(await users.linkIdentity('google', `go-${u.id}`, u.id)).toBe(true);
      expect(await users.linkIdentity('github', `gh-${other.id}`, other.id)).toBe(true);
      expect(await users.delete(u.id)).toBe(0);
      expect(await users.listIdentities(u.id)).toEqual([]);
      expect(await users.findByIdentity('google', `go-${u.id}`)).toBeNull();
      expect(await users.linkIdentity('github', `gh-${u.id}`, other.id)).toBe(false); // one per provider
      expect(await users.linkIdentity('google', `go-${u.id}`, other.id)).toBe(true);
      expect((await users.findByIdentity('google', `go-${u.id}`))?.id).toBe(other.id);
      expect((await users.findByIdentity('github', `gh-${other.id}`))?.id).toBe(other.id);
      const third = await users.create({ email: email(), passwordHash: 'h' });
      expect(await users.linkIdentity('github', `gh-${u.id}`, third.id)).toBe(true);
    });

    test('an unknown user is never written', async () => {
      expect(await users.updatePassword('no-such-user', { expectedVersion: 0 }, 'h', change)).toBe(
        null,
      );
      expect(await users.findById('no-such-user')).toBeNull();
      expect(await users.setRoles('no-such-user', ['admin'])).toBe(false);
      expect(await users.findById('no-such-user')).toBeNull();
    });

    test('roles: none for a new user, replaced as a whole, kept in order, found by email too', async () => {
      const address = email();
      const u = await users.create({ email: address, passwordHash: 'h' });
      expect(u.roles).toEqual([]);
      expect((await users.findById(u.id))?.roles).toEqual([]);
      expect(await users.setRoles(u.id, ['editor', 'admin'])).toBe(true);
      expect((await users.findById(u.id))?.roles).toEqual(['editor', 'admin']);
      expect((await users.findByEmail(address))?.roles).toEqual(['editor', 'admin']);
      expect(await users.setRoles(u.id, ['admin'])).toBe(true);
      expect((await users.findById(u.id))?.roles).toEqual(['admin']);
      expect(await users.setRoles(u.id, [])).toBe(true);
      expect((await users.findById(u.id))?.roles).toEqual([]);
      // Setting roles changes nothing else of the record.
      expect(await users.findById(u.id)).toEqual({ ...u, roles: [] });
    });

    test('markEmailVerified with an expected address: only while the record has it and is enabled (ADR 145)', async () => {
      const address = email();
      const u = await users.create({ email: address, passwordHash: 'h' });
      expect(await users.markEmailVerified(u.id, { email: email() })).toBe(false);
      expect((await users.findById(u.id))?.emailVerified).toBe(false);
      // Any spelling of the same address is that address.
      expect(await users.markEmailVerified(u.id, { email: address.toUpperCase() })).toBe(true);
      expect(await users.findById(u.id)).toEqual({ ...u, emailVerified: true });

      const d = await users.create({ email: email(), passwordHash: 'h' });
      await users.disable(d.id);
      expect(await users.markEmailVerified(d.id, { email: d.email })).toBe(false);
      expect((await users.findById(d.id))?.emailVerified).toBe(false);
      expect(await users.markEmailVerified('no-such-user', { email: d.email })).toBe(false);
      expect(await users.findById('no-such-user')).toBeNull();
      // Without an expectation (linkVerified's merge): marked whatever the address.
      const m = await users.create({ email: email(), passwordHash: 'h' });
      expect(await users.markEmailVerified(m.id)).toBe(true);
      expect((await users.findById(m.id))?.emailVerified).toBe(true);
    });
  });
}
