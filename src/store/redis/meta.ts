import type { SessionFormat } from '../engine';
import type { KeyLayout } from '../keys';
import { SERIES_FORMAT, SESSION_FORMAT, SESSION_FORMATS } from '../record-codec';
import type { RedisClient } from './connection';

/**
 * The layout a deployment's data was written with, recorded once in `{prefix}:meta`: changing
 * `shards`, the index bucket counts or the record format under existing data would strand every
 * session, so preflight compares what is recorded with the settings and this build before any
 * worker starts.
 */
export interface StoreMeta {
  readonly shards: number;
  readonly keyPrefix: string;
  readonly format: string;
  /** Live sub-indexes per shard (keys.ts LIVE_BUCKETS); NaN when not recorded. */
  readonly liveBuckets: number;
  /** User-index buckets per shard (keys.ts USER_BUCKETS); NaN when not recorded. */
  readonly userBuckets: number;
}

/** How `{prefix}:meta` names a layout: the session format a deployment writes, and the series'. */
export function layoutFormat(session: SessionFormat): string {
  return `session-${session} series-${SERIES_FORMAT}`;
}

/** The layout a new store records: the newest this code writes (ADR 265). */
export const LAYOUT_FORMAT = layoutFormat(SESSION_FORMAT);

/** Every layout this code reads and writes, oldest first. */
export const READABLE_LAYOUTS = SESSION_FORMATS.map(layoutFormat);

/** The session format a recorded layout names, or null when this code does not read it. */
export function sessionFormatOf(layout: string | null | undefined): SessionFormat | null {
  return SESSION_FORMATS.find((f) => layoutFormat(f) === layout) ?? null;
}

/** Records this deployment's layout where none is recorded yet (HSETNX), and returns what is recorded. */
export async function recordMeta(client: RedisClient, keys: KeyLayout): Promise<StoreMeta> {
  const key = keys.meta();
  const wanted: Record<keyof StoreMeta, string> = {
    shards: String(keys.shards),
    keyPrefix: keys.prefix,
    format: LAYOUT_FORMAT,
    liveBuckets: String(keys.liveBuckets),
    userBuckets: String(keys.userBuckets),
  };
  const pipeline = client.pipeline();
  for (const [field, value] of Object.entries(wanted)) pipeline.hsetnx(key, field, value);
  pipeline.hgetall(key);
  const results = await pipeline.exec();
  const failed = results?.find(([err]) => err);
  if (!results || failed) throw failed?.[0] ?? new Error('meta: pipeline returned no results');
  const recorded = results[results.length - 1][1] as Record<string, string>;
  return {
    shards: Number(recorded.shards),
    keyPrefix: recorded.keyPrefix ?? '',
    format: recorded.format ?? '',
    liveBuckets: Number(recorded.liveBuckets),
    userBuckets: Number(recorded.userBuckets),
  };
}
