/**
 * Jest global setup: servers are started per test file (beforeAll), never here. This only
 * checks that the Redis binaries exist (or, with the containers provider, that a container
 * engine answers), so a missing install fails once with one clear line.
 */
import { execFileSync } from 'node:child_process';
import { REDIS_CLI } from './cluster';
import { REDIS_SERVER, reapOrphans } from './redis-process';

export default async function globalSetup(): Promise<void> {
  if (process.env.HOLDFAST_REDIS_PROVIDER === 'containers') {
    // No local redis-server is needed: the servers run in containers (containers.ts).
    const { getContainerRuntimeClient } = await import('testcontainers');
    try {
      await getContainerRuntimeClient();
    } catch (error) {
      console.error(
        `\nholdfast tests: HOLDFAST_REDIS_PROVIDER=containers but no container engine answers (${(error as Error).message}): start Docker, or set DOCKER_HOST (see docs/testing.md)`,
      );
      process.exit(1);
    }
    return;
  }
  for (const binary of [REDIS_SERVER, REDIS_CLI]) {
    try {
      execFileSync(binary, ['--version'], { stdio: 'ignore' });
    } catch {
      console.error(
        `\nholdfast tests: \`${binary} --version\` failed: run \`make test\`, which installs redis-server and redis-tools`,
      );
      // Exit instead of throwing: one clear line, not a stack trace through jest internals.
      process.exit(1);
    }
  }
  // Servers orphaned by an earlier run whose test process was SIGKILLed.
  await reapOrphans();
}
