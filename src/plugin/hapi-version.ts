import type { Server } from '@hapi/hapi';
import { HoldfastError } from '../errors';

/** The oldest @hapi/hapi major the plugins run on (package.json peerDependencies ">=21"). */
export const MIN_HAPI_MAJOR = 21;

/**
 * Refuses an older hapi before anything is registered: hapi 20 would otherwise fail deep in its
 * route validation with a Joi message that names neither Holdfast nor the version.
 */
export function requireSupportedHapi(server: Server, plugin: string): void {
  const version = String((server as { version?: unknown }).version ?? 'unknown');
  const major = Number.parseInt(version, 10);
  if (major >= MIN_HAPI_MAJOR) return;
  throw new HoldfastError(
    'HF_HAPI_VERSION',
    `${plugin} needs @hapi/hapi ${MIN_HAPI_MAJOR} or later (peerDependencies ">=${MIN_HAPI_MAJOR}"); this server is @hapi/hapi ${version}: npm install @hapi/hapi@${MIN_HAPI_MAJOR}`,
  );
}
