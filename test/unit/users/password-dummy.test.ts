/**
 * The dummy verification (unknown email, account without a password) spends the work of a real
 * one: while it runs it holds a slot of the hashing queue's verify lane, like verify() does.
 */
import { BusyError, HashQueue, PasswordHasher } from '../../../src/users';

test('verifyDummy holds a verify slot while scrypt runs, and frees it when done', async () => {
  const q = new HashQueue(1, 0);
  const h = new PasswordHasher(2 ** 14, q);
  const dummy = h.verifyDummy('anything');
  // scrypt at this cost takes milliseconds on the thread pool; a check phase comes sooner.
  await new Promise((resolve) => setImmediate(resolve));
  expect(() => q.admit('verify')).toThrow(BusyError);
  expect(await dummy).toEqual({ ok: false, needsRehash: false });
  expect(() => q.admit('verify')).not.toThrow();
});
