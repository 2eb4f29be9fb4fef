import { apiSuite } from './api-suite';
import { buildTestApp } from './helpers';

apiSuite(
  'memory store',
  () => buildTestApp({ pages: false }),
  (app) => app.server.stop(),
  { perTest: true },
);
