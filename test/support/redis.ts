/** A harness Redis shared by the tests of one file. */
import { getProvider, RedisNode } from '../harness';

/**
 * A standalone Redis from the harness for every test of the file: started before the first
 * (beforeAll), destroyed after the last (afterAll). Call the returned function inside tests.
 */
export function standaloneForFile(): () => RedisNode {
  let redis: RedisNode | undefined;
  beforeAll(async () => {
    redis = await getProvider().standalone();
  });
  afterAll(async () => {
    await redis?.destroy();
  });
  return () => {
    if (!redis) throw new Error('the standalone Redis is not started (used outside a test?)');
    return redis;
  };
}
