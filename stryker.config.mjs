// Mutation testing of the security-critical modules (`make mutation`, docs/testing.md).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  mutate: [
    'src/session/token.ts',
    'src/session/session-service.ts',
    'src/session/policy.ts',
    'src/auth/scheme.ts',
    'src/auth/cookies.ts',
    'src/plugin/csrf.ts',
    'src/users/password.ts',
    'src/users/throttle.ts',
    'src/accounts/account-service.ts',
    'src/accounts/password-policy.ts',
    'src/accounts/revocation-retry.ts',
  ],
  testRunner: 'jest',
  jest: {
    projectType: 'custom',
    configFile: 'jest.mutation.config.js',
    enableFindRelatedTests: false,
  },
  // Each mutant runs only the tests that reached its code during the first (dry) run.
  coverageAnalysis: 'perTest',
  checkers: ['typescript'],
  tsconfigFile: 'tsconfig.build.json',
  concurrency: 2,
  thresholds: { high: 95, low: 85, break: 85 },
  incremental: true,
  // Kept in the repository: a run (CI's too) re-tests only the mutants whose code or covering
  // tests changed since the recorded one, so `make test` stays within its time budget.
  incrementalFile: 'test/mutation/incremental.json',
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: 'test-artifacts/mutation/index.html' },
  jsonReporter: { fileName: 'test-artifacts/mutation/mutation.json' },
  ignorePatterns: [
    'dist',
    'coverage',
    'test-artifacts',
    '.tools',
    'bench',
    'deploy',
    'grafana',
    'helm',
    'docs',
  ],
  tempDirName: '.stryker-tmp',
  cleanTempDir: 'always',
};
