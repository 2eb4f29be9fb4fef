import { verificationSuite } from './email-verification-suite';

jest.setTimeout(60_000);

verificationSuite('memory store', {
  engine: async () => undefined,
  store: () => ({}),
  teardown: async () => {},
});
