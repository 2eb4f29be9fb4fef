/**
 * The reply codes of the Lua scripts (src/store/lua, src/users/lua), named once: TypeScript
 * compares replies with these, never with a bare number. Each script's header says which of them
 * it returns; test/unit/store/script-replies.test.ts checks every literal `return <n>` of a
 * script is one of them.
 */

/** Changes to one session or series (touch, rotate, revoke, revoke-series, create-series, create). */
export const Reply = {
  /** The change was made. */
  APPLIED: 1,
  /** Nothing changed: absent, expired, owned by someone else, or another token. */
  NOT_APPLIED: 0,
  /** The record could not be decoded; it was left as is and is counted. */
  MALFORMED: -1,
  /** Refused: the user's credential epoch is above the write's version (ADR 040). */
  STALE_CREDENTIALS: -2,
  /** The user's data is being copied to a new shard (ADR 260): send it again shortly. */
  MOVING: -3,
  /** The user's data moved to their shard under the grown count (ADR 260): send it there. */
  MOVED: -4,
} as const;

/** The first element of use-series' reply. */
export const SeriesReply = {
  ROTATED: 1,
  /** The previous token within the grace window (parallel requests). */
  GRACE: 2,
  /** A token rotated out before the grace window: the series was deleted. */
  THEFT: 3,
  MISSING: 0,
  MALFORMED: -1,
} as const;

/** The user store's scripts. */
export const UserReply = {
  /** Recorded, removed or released. */
  DONE: 1,
  /** The field or key held something else (another account of the provider). */
  NOT_DONE: 0,
  /** No such user: nothing written. */
  NO_SUCH_USER: -1,
  /** update-password: the stored hash or version is not the expected one. */
  CHANGED_MEANWHILE: -2,
} as const;

/** lease (ADR 230). */
export const LeaseReply = {
  /** The caller holds the lease (taken or extended). */
  HELD: 1,
  /** Another process holds it, or the caller gave it back. */
  NOT_HELD: 0,
} as const;

/** Every code a script may return as a bare number. */
export const REPLY_CODES: ReadonlySet<number> = new Set([
  ...Object.values(Reply),
  ...Object.values(SeriesReply),
  ...Object.values(UserReply),
  ...Object.values(LeaseReply),
]);
