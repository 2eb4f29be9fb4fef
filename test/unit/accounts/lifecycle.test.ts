/**
 * The account lifecycle suite on the memory store (the same suite runs on Redis in
 * test/integration/users/lifecycle-redis.test.ts).
 */
import { createServices } from '../../../src/server/services';
import { MemoryEngine } from '../../../src/store';
import { testSettings } from '../../support/app';
import { lifecycleSuite } from '../../support/suites/lifecycle-suite';

lifecycleSuite(
  'memory store',
  async (hooks) => {
    const settings = testSettings();
    return createServices(settings, {
      engine: new MemoryEngine(settings.store.redis.shards),
      hooks,
    });
  },
  async () => {},
);
