import { HoldfastError } from '../../errors';
import { masters, type RedisConnection } from './connection';
import type { KeyLayout } from '../keys';
import { LAYOUT_FORMAT, sessionFormatOf } from './meta';

/** What `holdfast store upgrade-format` found and did (ADR 265). */
export interface FormatUpgrade {
  /** The format recorded before ('' when none was). */
  readonly from: string;
  readonly to: string;
  readonly changed: boolean;
}

/** A client connected to a master that belongs to a node of an older build. */
export interface OlderClient {
  readonly addr: string;
  readonly name: string;
}

/**
 * Connection names of nodes (RedisConnection, replica reads): `<name>-<role>` from a build before
 * ADR 265, `<name>-<role>-f<n>` since, n the newest session format the build reads.
 */
const NODE_CLIENT = /^(.+)-(reads|writes|replica-reads)(?:-f(\d+))?$/;

/** The clients in a CLIENT LIST reply whose build cannot read session format `format`. */
export function olderClients(clientList: string, format: number): OlderClient[] {
  const older: OlderClient[] = [];
  for (const line of clientList.split('\n')) {
    const name = / name=(\S+)/.exec(line)?.[1];
    const m = name ? NODE_CLIENT.exec(name) : null;
    if (!m || Number(m[3] ?? 0) >= format) continue;
    older.push({ addr: / addr=(\S+)/.exec(line)?.[1] ?? '?', name: name! });
  }
  return older;
}

/**
 * Records the newest session format in `{prefix}:meta`, so every node writes it from its next meta
 * poll on (RESHARD_POLL_MS). Refused (HF_FORMAT_UPGRADE_REFUSED, nothing changed) while a node of
 * a build that cannot read it is connected to any master: it would refuse the new cookies (a
 * logout) and misread the compact user index. A store is never moved back: an older build's
 * preflight refuses it from then on.
 */
export async function upgradeFormat(
  conn: RedisConnection,
  keys: KeyLayout,
): Promise<FormatUpgrade> {
  const recorded = (await conn.writes.hget(keys.meta(), 'format')) ?? '';
  const to = LAYOUT_FORMAT;
  if (recorded === to) return { from: recorded, to, changed: false };
  if (recorded && sessionFormatOf(recorded) === null) {
    throw new HoldfastError(
      'HF_FORMAT_UPGRADE_REFUSED',
      `${keys.meta()} records format "${recorded}", which this version of Holdfast does not read: run the version that wrote it`,
    );
  }
  const newest = sessionFormatOf(to)!;
  const lists = await Promise.all(
    masters(conn.writes).map((node) => node.call('CLIENT', 'LIST') as Promise<string>),
  );
  const older = lists.flatMap((list) => olderClients(String(list), newest));
  if (older.length) {
    const shown = older.slice(0, 5).map((c) => `${c.addr} (${c.name})`);
    throw new HoldfastError(
      'HF_FORMAT_UPGRADE_REFUSED',
      `${older.length} connection(s) of a Holdfast version that cannot read format "${to}" are open: ` +
        `${shown.join(', ')}${older.length > 5 ? ', …' : ''}; finish the rolling upgrade of every node first`,
    );
  }
  await conn.writes.hset(keys.meta(), 'format', to);
  return { from: recorded, to, changed: true };
}
