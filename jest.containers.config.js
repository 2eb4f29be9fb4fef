/**
 * The Redis suites once more, on Redis in containers (HOLDFAST_REDIS_PROVIDER=containers):
 * the harness's own tests (standalone, cluster, Sentinel), the engine contract and the rest of
 * the Redis engine's suites. `make test-containers` runs it through podman (scripts/containers/).
 */
const base = require('./jest.config');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/harness/containers.check.ts',
    '<rootDir>/test/integration/harness.test.ts',
    '<rootDir>/test/integration/store/redis-engine.test.ts',
  ],
};
