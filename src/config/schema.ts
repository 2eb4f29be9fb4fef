import { Resolver } from 'node:dns';
import Joi from 'joi';
import { parseCidr } from './addresses';
import { parseDuration } from './duration';

/** A duration: `30m`, `7d`, `100ms` or a number of milliseconds; converted to milliseconds. */
const duration = () =>
  Joi.any().custom((value, helpers) => {
    const ms = parseDuration(value);
    return ms === undefined ? helpers.error('duration.base') : ms;
  }, 'duration');

/** A DNS server as node:dns's Resolver.setServers takes it: `ip`, `ip:port` or `[ipv6]:port`. */
const dnsServer = () =>
  Joi.string()
    .custom((value: string, helpers) => {
      try {
        new Resolver().setServers([value]);
      } catch {
        return helpers.error('string.dnsServer');
      }
      return value;
    }, 'dns server')
    .messages({
      'string.dnsServer': '{{#label}} must be an IP address with an optional port (127.0.0.1:53)',
    });

const HOST_PORT = /^(\[[0-9a-fA-F:]+\]|[^\s:]+):(\d{1,5})$/;

/** `host:port` or `{ host, port }`; converted to `{ host, port }`. */
const hostPort = () =>
  Joi.alternatives().try(
    Joi.object({
      host: Joi.string().min(1).required(),
      port: Joi.number().integer().min(1).max(65535).required(),
    }),
    Joi.string().custom((value: string, helpers) => {
      const m = HOST_PORT.exec(value.trim());
      if (!m || Number(m[2]) < 1 || Number(m[2]) > 65535) return helpers.error('hostPort.base');
      return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
    }),
  );

const port = () => Joi.number().integer().min(0).max(65535);

/** An IP address or CIDR block (`10.0.0.0/8`, `fd00::/8`, `::1`); kept as written. */
const cidr = () =>
  Joi.string().custom((value: string, helpers) =>
    parseCidr(value) ? value.trim() : helpers.error('cidr.base'),
  );
/**
 * The public origin of emailed links (`https://app.example.com`, optionally with a path prefix): an
 * absolute http(s) URL with no query, fragment or credentials; kept without a trailing slash.
 */
const linkBase = () =>
  Joi.string().custom((value: string, helpers) => {
    let u: URL;
    try {
      u = new URL(value);
    } catch {
      return helpers.error('linkBase.base');
    }
    const ok =
      (u.protocol === 'https:' || u.protocol === 'http:') &&
      !u.search &&
      !u.hash &&
      !u.username &&
      !u.password &&
      !/[?#]/.test(value);
    return ok ? `${u.origin}${u.pathname.replace(/\/+$/, '')}` : helpers.error('linkBase.base');
  });
const isProd = { is: 'production', then: Joi.required() } as const;

export const schema = Joi.object({
  env: Joi.string().valid('development', 'test', 'production').required(),
  http: Joi.object({
    host: Joi.string().min(1).required(),
    port: port().required(),
    trustedProxies: Joi.array().items(cidr()).max(1000).required(),
  }).required(),
  metrics: Joi.object({
    enabled: Joi.boolean().required(),
    host: Joi.string().min(1).required(),
    port: port().required(),
  }).required(),
  workers: Joi.alternatives()
    .try(Joi.string().valid('auto'), Joi.number().integer().min(1).max(256))
    .required(),
  log: Joi.object({
    level: Joi.string()
      .valid('fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent')
      .required(),
    format: Joi.string().valid('auto', 'json', 'pretty').required(),
    access: Joi.string().valid('info', 'debug', 'off').required(),
  }).required(),
  cookie: Joi.object({
    password: Joi.string().min(32).when('/env', isProd),
    secure: Joi.boolean()
      .required()
      .when('/env', { is: 'production', then: Joi.valid(true) }),
    name: Joi.string()
      .pattern(/^[A-Za-z0-9_-]{1,64}$/)
      .required(),
    rememberName: Joi.string()
      .pattern(/^[A-Za-z0-9_-]{1,64}$/)
      .required(),
    sameSite: Joi.string().valid('Lax', 'Strict').required(),
  }).required(),
  session: Joi.object({
    idleTtl: duration().required(),
    absoluteTtl: duration().required(),
    renewAfter: duration().required(),
    rememberTtl: duration().required(),
    rememberGrace: duration().required(),
    maxPerUser: Joi.number().integer().min(1).max(1000).required(),
    maxRememberPerUser: Joi.number().integer().min(1).max(1000).required(),
  }).required(),
  nearCache: Joi.object({
    enabled: Joi.boolean().required(),
    // Bounded in problems.ts (1 ms to 1 min).
    staleness: duration().required(),
    maxEntries: Joi.number().integer().min(1).max(10_000_000).required(),
  }).required(),
  shutdown: Joi.object({
    drainDelay: duration().required(),
    timeout: duration().required(),
  }).required(),
  password: Joi.object({
    cost: Joi.number()
      .integer()
      .min(1024)
      .max(2 ** 20)
      .custom((v: number, h) => ((v & (v - 1)) === 0 ? v : h.error('powerOfTwo.base')))
      .required(),
    minLength: Joi.number().integer().min(8).max(128).required(),
    maxLength: Joi.number().integer().min(64).max(4096).required(),
    maxConcurrentHashes: Joi.number().integer().min(1).max(64).required(),
    maxQueuedHashes: Joi.number().integer().min(0).max(100000).required(),
  }).required(),
  throttle: Joi.object({
    accountFailures: Joi.number().integer().min(1).max(1000).required(),
    addressFailures: Joi.number().integer().min(1).max(100000).required(),
    baseDelay: duration().required(),
    maxDelay: duration().required(),
    window: duration().required(),
    registrations: Joi.number().integer().min(1).max(1000000).required(),
    resetPerAccount: Joi.number().integer().min(1).max(1000).required(),
    resetPerAddress: Joi.number().integer().min(1).max(100000).required(),
    verifyPerAccount: Joi.number().integer().min(1).max(1000).required(),
    verifyPerAddress: Joi.number().integer().min(1).max(100000).required(),
  }).required(),
  accounts: Joi.object({
    requireVerifiedEmail: Joi.boolean().required(),
  }).required(),
  auth: Joi.object({
    reauthWindow: duration().required(),
    redirectTo: Joi.alternatives(
      Joi.boolean().valid(false),
      Joi.string()
        .pattern(/^\/(?![/\\])[^\s\\?#]*$/)
        .messages({ 'string.pattern.base': '{{#label}} must be a path on this site, like /login' }),
    ).required(),
    appendNext: Joi.alternatives(
      Joi.boolean().valid(false),
      Joi.string()
        .pattern(/^[A-Za-z][A-Za-z0-9_-]{0,31}$/)
        .messages({
          'string.pattern.base': '{{#label}} must be a query parameter name, like next',
        }),
    ).required(),
  }).required(),
  csrf: Joi.object({
    origins: Joi.array()
      .items(Joi.string().uri({ scheme: ['http', 'https'] }))
      .required(),
  }).required(),
  oauth: Joi.object({
    location: Joi.string().uri({ scheme: ['http', 'https'] }),
    redirectTo: Joi.string()
      .pattern(/^\/(?![/\\])[^\s\\]*$/)
      .required()
      .messages({ 'string.pattern.base': '{{#label}} must be a path on this site, like /account' }),
    github: Joi.object({
      clientId: Joi.string().min(1).required(),
      clientSecret: Joi.string().min(1).required(),
      uri: Joi.string().uri({ scheme: ['http', 'https'] }),
    }),
    google: Joi.object({
      clientId: Joi.string().min(1).required(),
      clientSecret: Joi.string().min(1).required(),
    }),
  }).required(),
  mail: Joi.object({
    // The log transport writes every link (a secret token) to the log: development only.
    transport: Joi.string()
      .valid('off', 'log', 'smtp')
      .required()
      .when('/env', {
        not: 'development',
        then: Joi.valid(Joi.override, 'off', 'smtp').messages({
          'any.only': '{{#label}} log is for development only',
        }),
      }),
    from: Joi.string().min(3).max(320).required(),
    linkBase: linkBase().when('transport', { not: 'off', then: Joi.required() }),
    smtp: Joi.object({
      url: Joi.string().uri({ scheme: ['smtp', 'smtps'] }),
      host: Joi.string().min(1),
      port: port().min(1).required(),
      secure: Joi.boolean().required(),
      user: Joi.string().min(1),
      password: Joi.string().min(1),
      connectTimeout: duration().required(),
    })
      .and('user', 'password')
      .required(),
  }).required(),
  tokens: Joi.object({
    resetTtl: duration().required(),
    verifyTtl: duration().required(),
  }).required(),
  store: Joi.object({
    type: Joi.string()
      .valid('memory', 'redis')
      .required()
      .when('/env', { is: 'production', then: Joi.valid(Joi.override, 'redis') }),
    startupWait: duration().required(),
    unreachableAtStart: Joi.string().valid('listen', 'exit').required(),
    expectedSessions: Joi.number().integer().min(0).required(),
    driftInterval: duration().required(),
    sweep: Joi.object({
      interval: duration().required(),
      maxLag: duration().required(),
    }).required(),
    redis: Joi.object({
      mode: Joi.string().valid('cluster', 'sentinel', 'standalone').required(),
      nodes: Joi.array().items(hostPort()).required(),
      dns: Joi.object({
        name: Joi.string().hostname().required(),
        port: port().min(1).default(6379),
      }),
      dnsServers: Joi.array().items(dnsServer()).required(),
      rediscoverInterval: duration().required(),
      sentinelName: Joi.string().min(1).required(),
      username: Joi.string().min(1),
      password: Joi.string().min(1),
      tls: Joi.boolean().required(),
      natMap: Joi.object().pattern(Joi.string(), hostPort()).required(),
      keyPrefix: Joi.string()
        .pattern(/^[A-Za-z0-9_-]{1,32}$/)
        .required(),
      shards: Joi.number().integer().min(1).max(16384).required(),
      commandTimeout: duration().required(),
      connectTimeout: duration().required(),
      durability: Joi.object({
        replicas: Joi.number().integer().min(0).max(16).required(),
        timeout: duration().required(),
      }).required(),
      require: Joi.object({
        persistence: Joi.string().valid('aof', 'rdb', 'any', 'none').required(),
        replicasPerMaster: Joi.number().integer().min(0).max(16).required(),
        evictionPolicies: Joi.array()
          .items(
            Joi.string().valid(
              'noeviction',
              'volatile-lru',
              'volatile-lfu',
              'volatile-ttl',
              'volatile-random',
              'allkeys-lru',
              'allkeys-lfu',
              'allkeys-random',
            ),
          )
          .min(1)
          .required(),
        minVersion: Joi.string()
          .pattern(/^\d+\.\d+\.\d+$/)
          .required(),
      }).required(),
    }).required(),
  }).required(),
})
  .required()
  .messages({
    'duration.base': '{{#label}} must be a duration',
    'hostPort.base': '{{#label}} must be host:port',
    'powerOfTwo.base': '{{#label}} must be a power of two',
    'cidr.base': '{{#label}} must be an IP address or a CIDR block such as 10.0.0.0/8 or fd00::/8',
    'linkBase.base': '{{#label}} must be an absolute http(s) URL such as https://app.example.com',
  });
