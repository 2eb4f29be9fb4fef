import { MemoryUserStore } from '../../../src/users';
import { identityContract } from './identity-contract';

test('memory user store: linked identities (the UserStore contract)', async () => {
  await identityContract(new MemoryUserStore());
});
