/** Transpile-only ts-jest: `make typecheck` type-checks the whole tree once (see ENVIRONMENT.md). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': 'ts-jest' },
  testTimeout: 30000,
  // What a file leaves running fails the run by name, and never holds the process (see the reporter).
  reporters: ['default', '<rootDir>/test/harness/open-handles-reporter.js'],
  forceExit: true,
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
};
