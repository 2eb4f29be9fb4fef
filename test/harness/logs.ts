import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { createLogger, Logger } from '../../src/log/logger';

/**
 * Every test that runs Holdfast code keeps its logs here; after jest, `make test` scans them all
 * for passwords, cookies and tokens (scripts/scan-logs.ts), including the registered canaries.
 */
export const LOG_DIR = path.join(__dirname, '..', '..', 'test-artifacts', 'logs');

/** Registers strings that must never appear in any log. */
export function canary(...secrets: string[]): void {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.appendFileSync(path.join(LOG_DIR, 'canaries.txt'), secrets.map((s) => `${s}\n`).join(''));
}

/** The project's own logger (with its redaction) at trace level, writing to `<name>.log`. */
export function testLogger(name: string): Logger {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const file = path.join(LOG_DIR, `${name}.log`);
  return createLogger('trace', pino.destination({ dest: file, append: true, sync: true }));
}
