import { MemoryUserStore } from '../../../src/users';
import { userStoreContract } from '../../integration/users/user-store-contract';

userStoreContract('memory', () => new MemoryUserStore());
