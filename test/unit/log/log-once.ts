/**
 * Run by logger.test.ts as a child process, on a pipe or under `script` (a real pseudo-terminal):
 * one logger built the way `holdfast start` builds it, one line with a secret in it.
 */
import { createLogger, LogFormat } from '../../../src/log/logger';

const logger = createLogger('info', undefined, {
  format: (process.env.LOG_FORMAT ?? 'auto') as LogFormat,
  env: process.env.LOG_ENV,
});
logger.info({ path: '/auth/login', password: process.env.LOG_SECRET }, 'hello from the logger');
