/**
 * The Redis suites once more, on Redis in containers (HOLDFAST_REDIS_PROVIDER=containers):
 * the harness's own tests, the engine contract and the rest of the Redis engine's standalone
 * and cluster suites. `make test-containers` runs it through podman (scripts/containers/).
 * The containers provider has no Sentinel set, so Sentinel tests are left to the local run.
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/harness/containers.check.ts',
    '<rootDir>/test/integration/harness.test.ts',
    '<rootDir>/test/integration/store/redis-engine.test.ts',
  ],
  testNamePattern: '^(?!sentinel |RedisEngine on a Sentinel set )',
};
