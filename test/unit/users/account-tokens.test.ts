import { MemoryTokenBackend } from '../../../src/users';
import { accountTokenContract } from '../../integration/users/account-token-contract';

accountTokenContract('memory', () => ({ backend: new MemoryTokenBackend(), prefix: 'hft' }));
