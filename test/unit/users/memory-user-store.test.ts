import { MemoryUserStore } from '../../../src/users';
import { userStoreContract } from '../../integration/users/user-store-contract';

import { identityContract } from './identity-contract';

userStoreContract('memory', () => new MemoryUserStore());

test('memory user store: linked identities (the UserStore contract)', async () => {
  await identityContract(new MemoryUserStore());
});
