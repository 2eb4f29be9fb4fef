export { loadSettings, redact, redactedSettings } from './load';
export type { LoadOptions } from './load';
export { DEFAULTS, ENV_DEFAULTS, KNOWN_EXAMPLE_PASSWORDS, SECRET_PATHS } from './defaults';
export { parseDuration, formatDuration } from './duration';
export { envVarFor, pathForEnvVar, CONFIG_FILE_VAR } from './env-vars';
export type * from './settings';
export { familyOf, ipv6Groups, normalizeIp, parseCidr } from './addresses';
export type { Cidr, IpFamily } from './addresses';
