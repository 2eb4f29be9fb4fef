import type Joi from 'joi';
import type { Problem } from '../errors';
import { formatDuration } from './duration';
import { envVarFor } from './env-vars';
import { redact } from './redact';
import type { Settings } from './settings';
import type { Tree } from './tree';

/**
 * The text of settings problems: what was found (secrets redacted), where it came from, what is
 * expected and how to fix it; and the rules that span several settings.
 */

const ENVS: readonly string[] = ['development', 'test', 'production'];

/**
 * A Redis store configured (any store.redis.* setting, or store.type redis) while no environment
 * is named: without this, such a deployment would start in development mode, on the in-process
 * store, with the published development cookie password, and say nothing.
 */
export function unnamedEnvironment(
  env: NodeJS.ProcessEnv,
  layers: readonly Tree[],
  sources: Map<string, string>,
): Problem | undefined {
  if (layers.some((l) => l.env !== undefined)) return undefined;
  if (env.NODE_ENV !== undefined && ENVS.includes(env.NODE_ENV)) return undefined;
  const typeRedis = layers.some((l) => (l.store as Tree | undefined)?.type === 'redis');
  const keys = [...sources.keys()];
  // A leaf setting when there is one (store.redis.nodes), else a whole object from a JSON variable.
  const given =
    keys.find((p) => p.startsWith('store.redis.')) ??
    keys.find((p) => p === 'store.redis' && sources.get(p)?.startsWith('HOLDFAST_'));
  const setting = given ?? (typeRedis ? 'store.type' : undefined);
  if (!setting) return undefined;
  const unknown =
    env.NODE_ENV !== undefined
      ? `NODE_ENV "${env.NODE_ENV}", which is not an environment Holdfast knows, and no env setting or HOLDFAST_ENV`
      : 'no environment named (no env setting, HOLDFAST_ENV or NODE_ENV)';
  return {
    path: 'env',
    found: `${unknown}, while ${setting} is set (from ${sources.get(setting)})`,
    expected:
      'an environment named whenever a Redis store is configured: production, development or test',
    hint: 'set HOLDFAST_ENV=production (or env: production in the settings file); unnamed, Holdfast would run as development, on the in-process store with the published development cookie password',
  };
}

/** Settings that were removed: an old name fails start-up with the setting that replaced it. */
const REPLACED: Record<string, { expected: string; hint: string }> = {
  'throttle.trustProxy': {
    expected:
      "no throttle.trustProxy: it was replaced by http.trustedProxies, a list of the proxies' addresses (CIDR blocks)",
    hint: 'remove throttle.trustProxy (or HOLDFAST_THROTTLE__TRUST_PROXY) and set http.trustedProxies (HOLDFAST_HTTP__TRUSTED_PROXIES) to the CIDRs of your load balancer or ingress, e.g. ["10.0.0.0/8"]; see docs/security.md, "Client address behind proxies"',
  },
};

export function problemFromDetail(
  d: Joi.ValidationErrorItem,
  sources: Map<string, string>,
): Problem {
  const path = d.path.join('.');
  const ctx = d.context ?? {};
  const source = sourceOf(path, sources);
  const found = `${path === '' ? 'settings' : redact(path, ctx.value)}${source ? ` (from ${source})` : ''}`;
  const replaced = d.type === 'object.unknown' ? REPLACED[path] : undefined;
  return {
    path: path || '(root)',
    found,
    expected: replaced?.expected ?? expectedFor(d),
    hint: replaced?.hint ?? hintFor(path, d, source),
  };
}

function sourceOf(path: string, sources: Map<string, string>): string | undefined {
  for (let p = path; p; p = p.includes('.') ? p.slice(0, p.lastIndexOf('.')) : '') {
    const s = sources.get(p);
    if (s) return s;
  }
  return undefined;
}

function expectedFor(d: Joi.ValidationErrorItem): string {
  const ctx = d.context ?? {};
  switch (d.type) {
    case 'any.only':
      return `one of ${(ctx.valids as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'any.required':
      return 'a value (required here)';
    case 'object.unknown':
      return 'a known setting name (see docs/configuration.md)';
    case 'string.min':
      return `at least ${ctx.limit} characters`;
    case 'number.min':
      return `a number >= ${ctx.limit}`;
    case 'number.max':
      return `a number <= ${ctx.limit}`;
    case 'number.base':
      return 'a number';
    case 'number.integer':
      return 'a whole number';
    case 'boolean.base':
      return 'true or false';
    case 'cidr.base':
      return 'an IP address or a CIDR block, e.g. 10.0.0.0/8, 192.168.1.0/24, fd00::/8 or ::1';
    case 'linkBase.base':
      return 'an absolute http(s) URL with no query or fragment, e.g. https://app.example.com';
    case 'duration.base':
      return 'a duration such as 100ms, 30s, 30m, 12h, 7d, or a number of milliseconds';
    case 'hostPort.base':
    case 'alternatives.match':
    case 'alternatives.types':
      return d.path.includes('workers')
        ? '"auto" or a whole number from 1 to 256'
        : 'host:port, e.g. 10.0.0.1:6379';
    case 'string.pattern.base':
      return `text matching ${String(ctx.regex)}`;
    case 'string.hostname':
      return 'a DNS name, e.g. redis-headless.default.svc.cluster.local';
    case 'array.base':
      return 'a list (in env vars: comma-separated)';
    case 'array.min':
      return `at least ${ctx.limit} entries`;
    case 'object.base':
      return 'a mapping of settings';
    default:
      return d.message.replace(/^"[^"]*" /, '');
  }
}

const HINTS: Record<string, string> = {
  'cookie.password':
    'set cookie.password (or HOLDFAST_COOKIE__PASSWORD) to a random secret of 32+ characters, e.g. `openssl rand -base64 33`',
  'cookie.secure':
    'production cookies must be Secure: remove cookie.secure=false or run with env other than production',
  'store.type':
    'production needs a shared store: set store.type to redis and store.redis.nodes or store.redis.dns',
  'mail.transport':
    'the log transport writes every emailed link (a secret token) to the log: set mail.transport to smtp with mail.smtp.url or mail.smtp.host (or off), or run with env development',
  'mail.linkBase':
    "set mail.linkBase (HOLDFAST_MAIL__LINK_BASE) to the site's public origin, e.g. https://app.example.com: every emailed link starts with it (never with the request's Host header)",
};

function hintFor(path: string, d: Joi.ValidationErrorItem, source?: string): string {
  if (HINTS[path]) return HINTS[path];
  const where = source?.startsWith('HOLDFAST_')
    ? `change ${source}`
    : `set ${path} in the settings file or ${envVarFor(path)}`;
  if (d.type === 'object.unknown')
    return `remove or rename ${source ?? path}; check the spelling against docs/configuration.md`;
  return where;
}

const REAUTH_MIN_MS = 10_000;
const REAUTH_MAX_MS = 3_600_000;
/** Past a minute the bound stops meaning "soon" for a revoked session (ADR 225). */
const NEAR_CACHE_MAX_STALENESS_MS = 60_000;

/** Rules that span several settings; reported as problems just like schema errors. */
export function crossChecks(s: Settings): Problem[] {
  const out: Problem[] = [];
  const { idleTtl, absoluteTtl, renewAfter } = s.session;
  if (renewAfter >= idleTtl) {
    out.push({
      path: 'session.renewAfter',
      found: formatDuration(renewAfter),
      expected: `less than session.idleTtl (${formatDuration(idleTtl)})`,
      hint: 'renewal must happen before the idle timeout ends; a quarter to half of idleTtl is usual',
    });
  }
  if (idleTtl > absoluteTtl) {
    out.push({
      path: 'session.idleTtl',
      found: formatDuration(idleTtl),
      expected: `at most session.absoluteTtl (${formatDuration(absoluteTtl)})`,
      hint: 'lower session.idleTtl or raise session.absoluteTtl',
    });
  }
  const reauth = s.auth.reauthWindow;
  if (reauth < REAUTH_MIN_MS || reauth > REAUTH_MAX_MS) {
    out.push({
      path: 'auth.reauthWindow',
      found: formatDuration(reauth),
      expected: 'from 10s to 1h',
      hint: 'the time a user has, after confirming their password, to sign out other devices or link and unlink a provider; 5m is usual',
    });
  }
  const staleness = s.nearCache.staleness;
  if (staleness < 1 || staleness > NEAR_CACHE_MAX_STALENESS_MS) {
    out.push({
      path: 'nearCache.staleness',
      found: formatDuration(staleness),
      expected: 'from 1ms to 1m',
      hint: 'how long a revoked session may still pass on a worker that missed the invalidation; 1s is usual',
    });
  }
  const r = s.store.redis;
  if (s.store.type === 'redis' && r.nodes.length === 0 && !r.dns) {
    out.push({
      path: 'store.redis.nodes',
      found: 'no nodes and no store.redis.dns',
      expected: 'seed nodes (host:port list) or a DNS name to discover them',
      hint: 'set HOLDFAST_STORE__REDIS__NODES=10.0.0.1:6379,10.0.0.2:6379 or store.redis.dns.name (a headless service)',
    });
  }
  if (r.mode === 'sentinel' && r.dns) {
    out.push({
      path: 'store.redis.dns',
      found: r.dns.name,
      expected: 'no DNS discovery in sentinel mode (sentinels are listed in store.redis.nodes)',
      hint: 'remove store.redis.dns or use mode cluster',
    });
  }
  const smtp = s.mail.smtp;
  if (s.mail.transport === 'smtp' && !smtp.url === !smtp.host) {
    out.push({
      path: 'mail.smtp',
      found: smtp.url
        ? 'both mail.smtp.url and mail.smtp.host'
        : 'neither mail.smtp.url nor mail.smtp.host',
      expected:
        'one way to reach the SMTP server: mail.smtp.url, or mail.smtp.host with port/secure/user/password',
      hint: 'set HOLDFAST_MAIL__SMTP__URL=smtps://user:password@smtp.example.com:465, or HOLDFAST_MAIL__SMTP__HOST (and PORT, SECURE, USER, PASSWORD); not both',
    });
  }
  if (s.shutdown.drainDelay > s.shutdown.timeout) {
    out.push({
      path: 'shutdown.drainDelay',
      found: formatDuration(s.shutdown.drainDelay),
      expected: `at most shutdown.timeout (${formatDuration(s.shutdown.timeout)})`,
      hint: 'lower shutdown.drainDelay or raise shutdown.timeout',
    });
  }
  return out;
}
