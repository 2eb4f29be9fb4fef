/**
 * Jest global teardown. Each test file stops its own servers, and each test process kills
 * what it started when it exits; this only reaps servers of test processes that died hard.
 */
import { reapOrphans } from './redis-process';

export default async function globalTeardown(): Promise<void> {
  const reaped = await reapOrphans();
  if (reaped > 0) console.warn(`holdfast harness: killed ${reaped} orphaned redis-server(s)`);
}
