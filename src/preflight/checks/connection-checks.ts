import { envVarFor } from '../../config';
import type { CheckDefinition, StoreContext } from '../context';
import { listOf, plural } from '../context';
import { NodeFacts, usable } from '../facts';
import { formatEndpoint, TLS_OUTCOMES } from '../probe';
import type { ConnectOutcome } from '../probe';
import { CheckOutcome, fail, pass, skip, warn } from '../types';

/** Can Holdfast reach the store, speak its protocol, log in, and is it the kind of store configured? */

function allProbed(ctx: StoreContext): NodeFacts[] {
  const seen = new Set<NodeFacts>();
  for (const n of [...ctx.facts.seeds, ...ctx.facts.dataNodes]) seen.add(n);
  return [...seen];
}

function answered(n: NodeFacts): boolean {
  return n.probe.connect === 'ok' || TLS_OUTCOMES.includes(n.probe.connect);
}

export const dnsCheck: CheckDefinition = {
  id: 'store.dns',
  summary: 'store.redis.dns.name, when set, resolves to at least one address.',
  gate: 'redis',
  run(c) {
    const ctx = c as StoreContext;
    const dns = ctx.facts.dns;
    if (!dns) return skip('store.redis.dns is not set');
    const expected = 'at least one address (one per Redis node)';
    if (dns.addresses.length === 0) {
      return fail(
        `${dns.name} resolves to no address (${dns.error ?? 'empty answer'})`,
        expected,
        `check store.redis.dns.name (${envVarFor('store.redis.dns.name')}); a Kubernetes headless service has addresses only once its Redis pods are ready`,
        { transient: true },
      );
    }
    return pass(`${dns.name} resolves to ${listOf(dns.addresses)}`, expected);
  },
};

export const reachableCheck: CheckDefinition = {
  id: 'store.reachable',
  summary: 'Every configured or discovered Redis node (or sentinel) answers.',
  gate: 'redis',
  run(c) {
    const ctx = c as StoreContext;
    const sentinel = ctx.settings.store.redis.mode === 'sentinel';
    const nodes = allProbed(ctx);
    const expected = 'every configured and discovered node answers';
    if (nodes.length === 0) {
      return fail(
        'no node to connect to: store.redis.nodes is empty and DNS found none',
        expected,
        `set store.redis.nodes (${envVarFor('store.redis.nodes')}) or store.redis.dns.name`,
        { transient: true },
      );
    }
    const silent = nodes.filter((n) => !answered(n));
    if (silent.length === 0) {
      return pass(
        `${nodes.length} of ${nodes.length} ${sentinel ? 'sentinels and nodes' : 'nodes'} answer`,
        expected,
      );
    }
    const what = silent.map(
      (n) =>
        `${n.label} (${n.source === 'seed' ? 'listed' : 'discovered'}): ${n.probe.connectDetail}`,
    );
    const none = silent.length === nodes.length;
    return fail(
      `${none ? 'no node answers' : `${silent.length} of ${nodes.length} nodes do not answer`}: ${listOf(what, 4)}`,
      expected,
      none
        ? `start Redis or correct store.redis.nodes (${envVarFor('store.redis.nodes')}); with store.startupWait set, start waits for it`
        : 'start the nodes that are down, or remove addresses that are gone from store.redis.nodes',
      { transient: true },
    );
  },
};

const TLS_TEXT: Record<string, { observed: string; expected: string; hint: string }> = {
  'tls-expected': {
    observed: 'expects TLS',
    expected: 'plain TCP, since store.redis.tls is false',
    hint: `set store.redis.tls to true (${envVarFor('store.redis.tls')}=true); for a private CA also start Holdfast with NODE_EXTRA_CA_CERTS=/path/to/ca.pem`,
  },
  'tls-not-offered': {
    observed: 'answers without TLS',
    expected: 'a TLS handshake, since store.redis.tls is true',
    hint: `set store.redis.tls to false (${envVarFor('store.redis.tls')}=false), or enable TLS on the server (tls-port, tls-cert-file, tls-key-file)`,
  },
  'tls-untrusted': {
    observed: 'presents a certificate this machine does not trust',
    expected: 'a certificate signed by a trusted CA',
    hint: 'start Holdfast with NODE_EXTRA_CA_CERTS=/path/to/redis-ca.pem, or give Redis a certificate from a trusted CA',
  },
  'tls-hostname': {
    observed: 'presents a certificate for another name',
    expected: 'a certificate naming the address Holdfast connects to',
    hint: 'list the nodes under a name or IP that the certificate subjectAltName contains, or reissue the certificate',
  },
  'tls-error': {
    observed: 'failed the TLS handshake',
    expected: 'a TLS handshake that completes',
    hint: 'check the server TLS settings (tls-protocols, tls-ciphers) and its log',
  },
};

export const tlsCheck: CheckDefinition = {
  id: 'store.tls',
  summary:
    'TLS is used exactly when the servers offer it (store.redis.tls), with a trusted certificate.',
  gate: 'redis',
  run(c) {
    const ctx = c as StoreContext;
    const wantTls = ctx.settings.store.redis.tls;
    const nodes = allProbed(ctx);
    const bad = nodes.filter((n) => TLS_OUTCOMES.includes(n.probe.connect));
    if (bad.length === 0) {
      const ok = nodes.filter((n) => n.probe.connect === 'ok').length;
      if (ok === 0) return skip('no node answered (see store.reachable)');
      return pass(
        `${wantTls ? 'TLS' : 'plain TCP'} with ${plural(ok, 'node')}`,
        wantTls ? 'TLS (store.redis.tls true)' : 'plain TCP (store.redis.tls false)',
      );
    }
    const byKind = new Map<ConnectOutcome, NodeFacts[]>();
    for (const n of bad) byKind.set(n.probe.connect, [...(byKind.get(n.probe.connect) ?? []), n]);
    const [first] = byKind.keys();
    const observed = [...byKind.entries()]
      .map(([kind, list]) => {
        const detail =
          kind === 'tls-untrusted' || kind === 'tls-hostname' || kind === 'tls-error'
            ? ` (${list[0].probe.connectDetail})`
            : '';
        return `${listOf(list.map((n) => n.label))} ${TLS_TEXT[kind].observed}${detail}`;
      })
      .join('; ');
    return fail(observed, TLS_TEXT[first].expected, TLS_TEXT[first].hint);
  },
};

export const authCheck: CheckDefinition = {
  id: 'store.auth',
  summary: 'The servers accept store.redis.username / store.redis.password.',
  gate: 'redis',
  run(c) {
    const ctx = c as StoreContext;
    const r = ctx.settings.store.redis;
    const reached = allProbed(ctx).filter((n) => n.probe.connect === 'ok');
    if (reached.length === 0) return skip('no node answered (see store.reachable)');
    const user = r.username ? `ACL user ${r.username}` : 'the default user';
    const expected = r.password
      ? `the servers accept the password of ${user}`
      : 'servers that need no password, since store.redis.password is not set';
    const passwordHint = `set store.redis.password (${envVarFor('store.redis.password')}) to the server's requirepass or the ACL user's password${r.username ? '' : ', and store.redis.username for an ACL user'}`;
    const of = (kind: string) => reached.filter((n) => n.probe.auth === kind);
    const wrong = of('wrong-password');
    if (wrong.length) {
      return fail(
        `${listOf(wrong.map((n) => n.label))} refused the password of ${user} (WRONGPASS)`,
        expected,
        passwordHint,
      );
    }
    const missing = of('missing-password');
    if (missing.length) {
      return fail(
        `${listOf(missing.map((n) => n.label))} require a password (NOAUTH) and store.redis.password is not set`,
        expected,
        passwordHint,
      );
    }
    const failed = of('error');
    if (failed.length) {
      return fail(
        failed.map((n) => `${n.label}: ${n.probe.authDetail}`).join('; '),
        expected,
        `give ${user} permission to connect and run commands (ACL SETUSER ... on +@all ~${r.keyPrefix}* or narrower), or correct store.redis.username`,
      );
    }
    const unused = of('unused-password');
    if (unused.length) {
      return warn(
        `${listOf(unused.map((n) => n.label))} require no password; store.redis.password is not used`,
        'servers that require the password Holdfast sends',
        'protect Redis with requirepass or an ACL user, or remove store.redis.password',
      );
    }
    const dataNodes = reached.filter((n) => n.source !== 'seed' || r.mode !== 'sentinel');
    return pass(
      r.password
        ? `${plural(dataNodes.length, 'node')} accepted ${user}`
        : `${plural(dataNodes.length, 'node')} ${dataNodes.length === 1 ? 'needs' : 'need'} no password`,
      expected,
    );
  },
};

/** What a server says it is, from INFO. */
function kindOf(n: NodeFacts): string {
  const mode = n.info?.redis_mode;
  if (!mode) return 'unknown';
  if (mode === 'standalone' && n.info?.role === 'slave') return 'standalone replica';
  return mode;
}

export const modeCheck: CheckDefinition = {
  id: 'store.mode',
  summary:
    'The servers are what store.redis.mode says: cluster nodes, a standalone master, or sentinels.',
  gate: 'redis',
  run(c): CheckOutcome {
    const ctx = c as StoreContext;
    const mode = ctx.settings.store.redis.mode;
    const seeds = ctx.facts.seeds.filter(usable);
    if (seeds.length === 0) return skip('no node answered (see store.reachable and store.auth)');
    const unknown = seeds.filter((n) => !n.info);
    const described = (list: NodeFacts[]) => listOf(list.map((n) => `${n.label} is ${kindOf(n)}`));
    const modeVar = envVarFor('store.redis.mode');
    if (mode === 'cluster') {
      const wrong = seeds.filter((n) => n.info && n.info.redis_mode !== 'cluster');
      if (wrong.length) {
        return fail(
          described(wrong),
          'Redis Cluster nodes (cluster-enabled yes), since store.redis.mode is cluster',
          `set store.redis.mode (${modeVar}) to ${wrong[0].info?.redis_mode === 'sentinel' ? 'sentinel' : 'standalone'}, or point store.redis.nodes at the cluster`,
        );
      }
    } else if (mode === 'sentinel') {
      const wrong = seeds.filter((n) => n.info && n.info.redis_mode !== 'sentinel');
      if (wrong.length) {
        return fail(
          described(wrong),
          'sentinels (redis-server --sentinel, usually port 26379), since store.redis.mode is sentinel',
          `list the sentinels in store.redis.nodes, or set store.redis.mode (${modeVar}) to ${wrong[0].info?.redis_mode === 'cluster' ? 'cluster' : 'standalone'}`,
        );
      }
    } else {
      const wrong = seeds.filter((n) => n.info && n.info.redis_mode !== 'standalone');
      if (wrong.length) {
        return fail(
          described(wrong),
          'a standalone server, since store.redis.mode is standalone',
          `set store.redis.mode (${modeVar}) to ${wrong[0].info?.redis_mode}`,
        );
      }
      const replica = seeds.find((n) => n.info?.role === 'slave');
      if (replica) {
        return fail(
          `${replica.label} is a replica of ${replica.info?.master_host}:${replica.info?.master_port}`,
          'the master: a replica refuses writes',
          'point store.redis.nodes at the master, or use store.redis.mode sentinel so failovers are followed',
        );
      }
      if (ctx.facts.seeds.length > 1) {
        return warn(
          `${ctx.facts.seeds.length} nodes listed; standalone mode uses only the first (${ctx.facts.seeds[0].label})`,
          'one node in store.redis.nodes',
          'list only the master, or use sentinel or cluster mode for several servers',
        );
      }
    }
    if (unknown.length) {
      return warn(
        `${listOf(unknown.map((n) => n.label))} refused INFO (${unknown[0].infoError ?? 'no reply'})`,
        `servers that say what they are (INFO), store.redis.mode ${mode}`,
        'allow INFO for the Holdfast user (ACL +info)',
      );
    }
    return pass(
      `${plural(seeds.length - unknown.length, 'node')} in ${mode} mode`,
      `store.redis.mode ${mode}`,
    );
  },
};

export const sentinelMasterCheck: CheckDefinition = {
  id: 'sentinel.master',
  summary:
    'In sentinel mode, the sentinels monitor store.redis.sentinelName and its master answers as a master.',
  gate: 'redis',
  run(c) {
    const ctx = c as StoreContext;
    const r = ctx.settings.store.redis;
    if (r.mode !== 'sentinel') return skip(`store.redis.mode is ${r.mode}`);
    const s = ctx.facts.sentinel;
    if (!s || s.answers.length === 0) return skip('no sentinel answered (see store.reachable)');
    const expected = `a master named "${r.sentinelName}" (store.redis.sentinelName), answering as master`;
    if (!s.master) {
      return fail(
        `no sentinel knows "${r.sentinelName}": ${listOf(
          s.answers.map((a) => `${a.sentinel} ${a.error}`),
          3,
        )}`,
        expected,
        `set store.redis.sentinelName (${envVarFor('store.redis.sentinelName')}) to the name in the sentinels' "sentinel monitor <name> <ip> <port> <quorum>" line`,
      );
    }
    const label = formatEndpoint(s.master);
    const node = ctx.facts.dataNodes.find((n) => n.label === s.masterLabel);
    if (!node || !answered(node)) {
      return fail(
        `the sentinels name ${label} as master, and it does not answer (${node?.probe.connectDetail ?? 'not probed'})`,
        expected,
        'start the master, or wait for the sentinels to fail over to a replica',
        { transient: true },
      );
    }
    if (node.info && node.info.role !== 'master') {
      return fail(
        `the sentinels name ${label} as master, but it says role:${node.info.role}`,
        expected,
        'a failover is in progress or the sentinels are out of date: wait, or check SENTINEL MASTERS',
        { transient: true },
      );
    }
    const disagree = s.answers.filter((a) => a.master && formatEndpoint(a.master) !== label);
    if (disagree.length) {
      return warn(
        `${listOf(disagree.map((a) => a.sentinel))} name another master than ${label}`,
        expected,
        'sentinels disagree during a failover; if it lasts, check their configuration',
      );
    }
    return pass(
      `${plural(s.answers.filter((a) => a.master).length, 'sentinel')} name ${label} as master "${r.sentinelName}"`,
      expected,
    );
  },
};
