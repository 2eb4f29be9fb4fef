import { DEFAULTS } from './defaults';

/** `store.redis.require.replicasPerMaster` <-> `HOLDFAST_STORE__REDIS__REQUIRE__REPLICAS_PER_MASTER`. */
export const ENV_PREFIX = 'HOLDFAST_';
/** Names the settings file, so it is not itself a setting. */
export const CONFIG_FILE_VAR = 'HOLDFAST_CONFIG';

export function envVarFor(path: string): string {
  return (
    ENV_PREFIX +
    path
      .split('.')
      .map((seg) => seg.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase())
      .join('__')
  );
}

export function pathForEnvVar(name: string): string | undefined {
  if (!name.startsWith(ENV_PREFIX) || name === CONFIG_FILE_VAR) return undefined;
  const rest = name.slice(ENV_PREFIX.length);
  if (!rest) return undefined;
  let level: unknown = DEFAULTS;
  return rest
    .split('__')
    .map((seg) => {
      const key = knownKey(level, seg);
      level = key === undefined ? undefined : (level as Record<string, unknown>)[key];
      return key ?? seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase());
    })
    .join('.');
}

/**
 * The default's key a segment written without its underscores names (NEARCACHE for nearCache):
 * people write HOLDFAST_NEARCACHE__ENABLED as often as HOLDFAST_NEAR_CACHE__ENABLED.
 */
function knownKey(level: unknown, seg: string): string | undefined {
  if (typeof level !== 'object' || level === null || seg.includes('_')) return undefined;
  const wanted = seg.toLowerCase();
  return Object.keys(level).find((k) => k.toLowerCase() === wanted);
}
