import { buildTestApp } from '../../support/app';
import { scopeSuite } from '../../support/suites/scope-suite';

scopeSuite(
  'memory',
  () => buildTestApp({ pages: false }),
  (app) => app.server.stop(),
);
