/**
 * The tests Stryker runs (`make mutation`): the fast ones that exercise the security-critical
 * modules listed in stryker.config.mjs, on the in-process store. Slow suites (real Redis, child
 * processes, the browser) stay out: Stryker runs each mutant against the tests that cover it
 * (coverageAnalysis: perTest), and a mutant of these modules is killed here or not at all.
 */
const base = require('./jest.config.js');

module.exports = {
  ...base,
  testMatch: [
    '<rootDir>/test/unit/session/**/*.test.ts',
    '<rootDir>/test/unit/accounts/**/*.test.ts',
    '<rootDir>/test/unit/users/**/*.test.ts',
    '<rootDir>/test/unit/auth/**/*.test.ts',
    '<rootDir>/test/unit/plugin/**/*.test.ts',
  ],
  // Neither reaches the mutated modules in a way the others do not: device labels, option schemas.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/unit/session/device.test.ts',
    '<rootDir>/test/unit/plugin/options.test.ts',
  ],
};
