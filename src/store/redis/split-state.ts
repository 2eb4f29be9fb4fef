import { HoldfastError } from '../../errors';
import type { KeyLayout } from '../keys';
import type { RedisClient } from './connection';

/**
 * The shard count's growth from `from` to `to` shards (ADR 260), recorded in `{prefix}:meta`:
 * field `reshard` holds `{from, to, cursor}` while users move (cursor: old shards 0..cursor−1
 * are done), and at the end `shards` becomes `to` and `grownFrom` records `from` (old cookies
 * still name shards under `from`).
 */
export interface SplitState {
  readonly from: number;
  readonly to: number;
  /** Old shards below this one have every user moved. */
  readonly cursor: number;
  /** True once `shards` records `to`: every user moved. */
  readonly done: boolean;
}

/** How often a node reads the split state (ADR 260); the command waits several of these. */
export const RESHARD_POLL_MS = 2_000;

/** A split from `from` to `to` shards is possible: a multiple, larger. */
export function validGrowth(from: number, to: number): boolean {
  return Number.isInteger(to) && to > from && to % from === 0;
}

/**
 * The split this deployment is in or went through, seen by an engine configured with
 * `configured` shards, from meta's fields (the engine reads them, RedisEngine.refreshMeta): the
 * running one, or a finished one (meta's shards above the configured count, or `grownFrom`
 * recorded); null when the count never grew. Pure, unit tested.
 */
export function parseSplit(
  shards: string | null,
  reshard: string | null,
  grownFrom: string | null,
  configured: number,
): SplitState | null {
  if (reshard) {
    const r = JSON.parse(reshard) as { from: number; to: number; cursor: number };
    return { from: r.from, to: r.to, cursor: r.cursor, done: false };
  }
  const recorded = Number(shards);
  const from = Number(grownFrom);
  if (grownFrom && validGrowth(from, recorded)) {
    return { from, to: recorded, cursor: from, done: true };
  }
  if (validGrowth(configured, recorded)) {
    return { from: configured, to: recorded, cursor: configured, done: true };
  }
  return null;
}

/**
 * Starts (or finds) the split to `to` shards. Throws HF_RESHARD_REFUSED when another split runs,
 * or when `to` is no larger multiple of the recorded count.
 */
export async function beginSplit(
  client: RedisClient,
  keys: KeyLayout,
  to: number,
): Promise<SplitState> {
  const [shards, reshard, grownFrom] = await client.hmget(
    keys.meta(),
    'shards',
    'reshard',
    'grownFrom',
  );
  if (reshard) {
    const running = parseSplit(shards, reshard, null, keys.shards)!;
    if (running.to !== to) {
      throw new HoldfastError(
        'HF_RESHARD_REFUSED',
        `a split to ${running.to} shards is running: run it to its end first`,
      );
    }
    return running;
  }
  const from = Number(shards);
  if (!shards || !Number.isInteger(from)) throw new Error(`${keys.meta()} records no shard count`);
  if (from === to) return { from: Number(shards), to, cursor: from, done: true };
  if (!validGrowth(from, to)) {
    throw new HoldfastError(
      'HF_RESHARD_REFUSED',
      `${to} shards is not a larger multiple of the recorded ${from}`,
    );
  }
  // Cookies of the first growth's era name shards under its old count, which a second growth's
  // reads do not look under yet: they would be lost (ADR 260, not built).
  if (grownFrom) {
    throw new HoldfastError(
      'HF_RESHARD_REFUSED',
      `this store grew once already (from ${grownFrom} to ${from} shards); a second growth is not supported yet`,
    );
  }
  const state: SplitState = { from, to, cursor: 0, done: false };
  await client.hset(keys.meta(), 'reshard', encode(state));
  return state;
}

/** Records that old shards below `cursor` are done. */
export async function saveCursor(
  client: RedisClient,
  keys: KeyLayout,
  state: SplitState,
): Promise<void> {
  await client.hset(keys.meta(), 'reshard', encode(state));
}

/** The end: `shards` becomes `to`, `grownFrom` `from`, and the running state goes, in one step. */
export async function finishSplit(
  client: RedisClient,
  keys: KeyLayout,
  state: SplitState,
): Promise<void> {
  const results = await client
    .multi()
    .hset(keys.meta(), 'shards', String(state.to), 'grownFrom', String(state.from))
    .hdel(keys.meta(), 'reshard')
    .exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed)
    throw failed?.[0] ?? new Error('finishSplit: the transaction was aborted');
}

function encode(state: SplitState): string {
  return JSON.stringify({ from: state.from, to: state.to, cursor: state.cursor });
}
