import { buildTestApp } from '../plugin/helpers';
import { scopeSuite } from './scope-suite';

scopeSuite(
  'memory',
  () => buildTestApp({ pages: false }),
  (app) => app.server.stop(),
);
