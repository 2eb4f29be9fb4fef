import { MemoryUserStore } from '../../../src/users';
import { userStoreContract } from '../../support/suites/user-store-contract';

import { identityContract } from '../../support/suites/identity-contract';

userStoreContract('memory', () => new MemoryUserStore());

test('memory user store: linked identities (the UserStore contract)', async () => {
  await identityContract(new MemoryUserStore());
});
