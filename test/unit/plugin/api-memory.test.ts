import { apiSuite } from '../../support/suites/api-suite';
import { buildTestApp } from '../../support/app';

apiSuite(
  'memory store',
  () => buildTestApp({ pages: false }),
  (app) => app.server.stop(),
  { perTest: true },
);
