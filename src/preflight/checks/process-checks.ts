import net from 'node:net';
import { envVarFor, KNOWN_EXAMPLE_PASSWORDS } from '../../config';
import type { Settings } from '../../config';
import { OWASP_MIN_SCRYPT_COST, SCRYPT_BLOCK_SIZE, SCRYPT_PARALLELISM } from '../../users';
import type { CheckDefinition, PreflightContext } from '../context';
import { listOf } from '../context';
import { usable } from '../facts';
import { CheckOutcome, fail, pass, skip, warn } from '../types';

/** Checks of the settings and of this machine (not of the store). */

const PASSWORD_HINT =
  'set cookie.password (or HOLDFAST_COOKIE__PASSWORD) to a random secret of 32+ characters, ' +
  'e.g. `openssl rand -base64 33`, the same on every node';

export const settingsCheck: CheckDefinition = {
  id: 'settings',
  summary: 'The settings file, HOLDFAST_* variables and defaults form valid settings.',
  gate: 'always',
  run(ctx) {
    if (ctx.settingsError) {
      return ctx.settingsError.problems.map((p) =>
        fail(p.found, p.expected, p.hint, { subject: p.path }),
      );
    }
    const s = ctx.settings as Settings;
    const store =
      s.store.type === 'memory'
        ? 'memory'
        : `redis ${s.store.redis.mode}, ${s.store.redis.nodes.length} listed nodes${s.store.redis.dns ? `, DNS ${s.store.redis.dns.name}` : ''}`;
    return pass(
      `valid: env ${s.env}, store ${store}, ${s.workers} worker(s)`,
      'settings the schema accepts',
    );
  },
};

/**
 * Shapes of a value copied from an example instead of generated: an unexpanded template
 * (`${...}`, `{{ ... }}`, `<...>`, `...`) or the words examples use. A generated secret
 * (`openssl rand -base64 33`) has none of them but by a chance far below guessing it.
 */
const PLACEHOLDER_SHAPES: readonly RegExp[] = [
  /\$\{[^}]*\}/,
  /\{\{[^}]*\}\}/,
  /^<.*>$/,
  /^\.\.\.|\.\.\.$/,
  /change[-_ .]?me/i,
  /placeholder/i,
  /\bexample\b/i,
  /\b(your|random|secret)[-_ ]/i,
];

/** True for a published example value or anything shaped like a placeholder. */
export function isExamplePassword(pw: string): boolean {
  return KNOWN_EXAMPLE_PASSWORDS.includes(pw) || PLACEHOLDER_SHAPES.some((re) => re.test(pw));
}

export const cookiePasswordCheck: CheckDefinition = {
  id: 'process.cookie-password',
  summary:
    'cookie.password is set, at least 32 characters, and in production not a published example value or a placeholder.',
  gate: 'settings',
  run(ctx) {
    const s = ctx.settings as Settings;
    const pw = s.cookie.password;
    const expected = 'a random secret of at least 32 characters, not an example value';
    if (!pw) return fail('no cookie.password', expected, PASSWORD_HINT);
    const shown = `a secret of ${pw.length} characters`;
    if (pw.length < 32) return fail(shown, expected, PASSWORD_HINT);
    if (KNOWN_EXAMPLE_PASSWORDS.includes(pw)) {
      if (s.env === 'production') {
        return fail(`${shown} that is a published example value`, expected, PASSWORD_HINT);
      }
      return pass(`${shown}: the ${s.env} default (refused in production)`, expected);
    }
    // Refused in production; elsewhere a warning, so development keeps working.
    const weak = (observed: string) =>
      s.env === 'production'
        ? fail(observed, expected, PASSWORD_HINT)
        : warn(observed, expected, PASSWORD_HINT);
    if (isExamplePassword(pw))
      return weak(`${shown} shaped like a placeholder copied from an example`);
    const distinct = new Set(pw).size;
    if (distinct < 10) return weak(`${shown} made of only ${distinct} different characters`);
    return pass(shown, expected);
  },
};

export const passwordCostCheck: CheckDefinition = {
  id: 'process.password-cost',
  summary:
    "password.cost is at least OWASP's scrypt minimum (N = 2^17 with r = 8, p = 1) in production.",
  gate: 'settings',
  run(ctx) {
    const s = ctx.settings as Settings;
    const n = s.password.cost;
    const shown = `password.cost ${n} (scrypt N = 2^${Math.log2(n)}, r = ${SCRYPT_BLOCK_SIZE}, p = ${SCRYPT_PARALLELISM})`;
    const expected = `at least ${OWASP_MIN_SCRYPT_COST} (N = 2^${Math.log2(OWASP_MIN_SCRYPT_COST)}, OWASP's minimum for scrypt) in production`;
    if (n >= OWASP_MIN_SCRYPT_COST) return pass(shown, expected);
    if (s.env === 'production') {
      return fail(
        shown,
        expected,
        `set password.cost (${envVarFor('password.cost')}) to ${OWASP_MIN_SCRYPT_COST} or more, or remove it to use the default; a lower cost makes stolen password hashes cheaper to crack`,
      );
    }
    return pass(`${shown}: below OWASP's minimum, allowed in ${s.env} only`, expected);
  },
};

export const portsCheck: CheckDefinition = {
  id: 'process.ports',
  summary: 'http.port (and metrics.port when metrics are on) can be bound on their hosts.',
  gate: 'settings',
  async run(ctx) {
    const s = ctx.settings as Settings;
    if (ctx.options.portsHeld) return skip('this node listens on them already');
    const targets = [{ path: 'http', host: s.http.host, port: s.http.port }];
    if (s.metrics.enabled)
      targets.push({ path: 'metrics', host: s.metrics.host, port: s.metrics.port });
    const expected = 'ports free to bind on this machine';
    if (targets.length === 2 && s.http.port !== 0 && s.http.port === s.metrics.port) {
      return fail(
        `http.port and metrics.port are both ${s.http.port}`,
        'two different ports',
        `set metrics.port (${envVarFor('metrics.port')}) to another port, e.g. 9464`,
      );
    }
    const problems: string[] = [];
    let hint = '';
    for (const t of targets) {
      if (t.port === 0) continue; // any free port
      const code = await bindError(t.host, t.port);
      if (!code) continue;
      const where = `${t.path}.port ${t.port} on ${t.host}`;
      if (code === 'EADDRINUSE') {
        problems.push(`${where} is in use by another process`);
        hint ||= `stop what listens there (ss -ltnp 'sport = :${t.port}') or set ${t.path}.port (${envVarFor(`${t.path}.port`)}) to a free port`;
      } else if (code === 'EACCES') {
        problems.push(`${where} needs privileges (${code})`);
        hint ||= `use a port above 1023 in ${t.path}.port, or grant CAP_NET_BIND_SERVICE`;
      } else {
        problems.push(`${where} cannot be bound (${code})`);
        hint ||= `set ${t.path}.host (${envVarFor(`${t.path}.host`)}) to an address of this machine, e.g. 0.0.0.0`;
      }
    }
    if (problems.length) return fail(problems.join('; '), expected, hint);
    return pass(
      targets.map((t) => `${t.path} ${t.host}:${t.port === 0 ? 'any' : t.port}`).join(', '),
      expected,
    );
  },
};

/** The error code of binding host:port, or '' when it can be bound (and was released again). */
export function bindError(host: string, port: number): Promise<string> {
  return new Promise((resolve) => {
    // A client can connect while the port is bound (a health check, a retry): drop it, or close()
    // would wait for that client and this check with it.
    const server = net.createServer((socket) => socket.destroy());
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? 'EUNKNOWN'));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve('')));
  });
}

export const memoryEngineCheck: CheckDefinition = {
  id: 'store.memory-engine',
  summary: 'The in-process memory store is used only outside production and with a single worker.',
  gate: 'settings',
  run(ctx) {
    const s = ctx.settings as Settings;
    if (s.store.type === 'redis') return pass(`redis (${s.store.redis.mode})`, 'a shared store');
    const expected = 'store.type redis in production; memory only for development with 1 worker';
    if (s.env === 'production') {
      return fail(
        'store.type memory in production',
        expected,
        'set store.type to redis and store.redis.nodes (or store.redis.dns): the memory store is not shared between nodes and forgets every session on restart',
      );
    }
    if (s.workers > 1) {
      return fail(
        `store.type memory with ${s.workers} workers: each worker would have its own sessions`,
        expected,
        `set workers to 1 (${envVarFor('workers')}=1) or use store.type redis`,
      );
    }
    return pass(
      `memory, ${s.env}, 1 worker (sessions end when the process stops)`,
      'memory only for development',
    );
  },
};

export const clockCheck: CheckDefinition = {
  id: 'process.clock',
  summary:
    "The store's clock (TIME) and this machine's agree within 2 s: session deadlines use both.",
  gate: 'store',
  run(ctx: PreflightContext): CheckOutcome {
    const facts = ctx.facts;
    const tolerance = ctx.options.clockToleranceMs ?? 2000;
    const nodes = (facts?.dataNodes ?? []).filter((n) => usable(n) && n.clock);
    const expected = `the store's TIME within ${tolerance / 1000}s of this machine's clock`;
    if (nodes.length === 0) return skip('no node answered TIME');
    const off: string[] = [];
    let worst = 0;
    for (const n of nodes) {
      const { offsetMs, rttMs } = n.clock as { offsetMs: number; rttMs: number };
      // The true offset is within rtt/2 of the measured one: count only what is certain.
      const certain = Math.max(0, Math.abs(offsetMs) - rttMs / 2);
      worst = Math.max(worst, Math.abs(offsetMs));
      if (certain > tolerance) {
        const secs = (Math.abs(offsetMs) / 1000).toFixed(1);
        off.push(`${n.label} is ${secs}s ${offsetMs > 0 ? 'ahead of' : 'behind'} this machine`);
      }
    }
    if (off.length) {
      return warn(
        listOf(off),
        expected,
        'synchronise the clocks (NTP: chrony or systemd-timesyncd) of this machine and the Redis hosts: deadlines are written with this clock and expired by Redis with its own',
      );
    }
    // Whole tenths of a second: the check's tolerance is seconds, and preflight and start must
    // print the same line for the same store.
    const shown = worst < 100 ? 'under 0.1 s' : `${(worst / 1000).toFixed(1)} s`;
    return pass(`largest difference ${shown} over ${nodes.length} node(s)`, expected);
  },
};
