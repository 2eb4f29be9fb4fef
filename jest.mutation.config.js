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
    // OAuth sign-in and linking against the in-process local provider: no Redis, a few seconds,
    // and the only tests that reach the account service's OAuth paths through @hapi/bell.
    '<rootDir>/test/integration/plugin/oauth.test.ts',
  ],
  // Left out: device labels and option schemas reach none of the mutated modules; the property
  // tests explore the HTTP layer's inputs (what they reach here, the token and cookie tests
  // cover), and a failing property shrinks for long enough to turn a kill into a slow timeout.
  testPathIgnorePatterns: [
    '/node_modules/',
    '<rootDir>/test/unit/session/device.test.ts',
    '<rootDir>/test/unit/plugin/options.test.ts',
    '<rootDir>/test/unit/plugin/property.test.ts',
  ],
};
