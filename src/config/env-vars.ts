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
  return rest
    .split('__')
    .map((seg) => seg.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()))
    .join('.');
}
