import type { Services } from '../../server/services';
import { UserInputError } from '../../users';
import type { Out } from '../output';
import { formatTable } from '../table';

/** `holdfast sessions count`: live sessions and users across the deployment, O(shards). */
export async function sessionsCount(services: Services, json: boolean, out: Out): Promise<number> {
  const c = await services.sessions.count();
  // A bare number without --json: scripts use $(holdfast sessions count).
  out(json ? JSON.stringify({ sessions: c.sessions, users: c.users }) : String(c.sessions));
  return 0;
}

export const SESSION_COLUMNS = [
  'ID',
  'METHOD',
  'CREATED',
  'LAST SEEN',
  'EXPIRES',
  'IP',
  'USER AGENT',
] as const;

/** An instant to the second, in UTC: the table is for reading, --json keeps milliseconds. */
const seconds = (iso: string) => iso.replace(/\.\d{3}Z$/, 'Z');

/** Who a command is about: `{ userId }` (--user) or `{ email }` (--email). */
export type Who = Parameters<Services['admin']['find']>[0];

/**
 * `holdfast sessions list (--user ID | --email E)`: a table of live sessions; never a token or its
 * hash. A user id is listed as given (no sessions: the header only); an address must name a user
 * (exit 65 otherwise).
 */
export async function sessionsList(
  services: Services,
  who: Who,
  json: boolean,
  out: Out,
): Promise<number> {
  const userId = 'userId' in who ? who.userId : (await services.admin.find(who))?.id;
  if (userId === undefined) throw new UserInputError('email', 'no user has this address');
  const rows = (await services.sessions.list(userId)).map((s) => ({
    id: s.id,
    method: s.method,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
  }));
  if (json) {
    out(JSON.stringify(rows));
    return 0;
  }
  const cells = rows.map((r) => [
    r.id,
    r.method,
    seconds(r.createdAt),
    seconds(r.lastSeenAt),
    seconds(r.expiresAt),
    r.ip || '-',
    r.userAgent || '-',
  ]);
  for (const line of formatTable(SESSION_COLUMNS, cells)) out(line);
  return 0;
}

/**
 * `holdfast sessions revoke --user X [--session ID]`: prints how many sessions ended (a bare
 * number, or `{"revoked": n}` with --json); exits 1 when the one session named was not found.
 */
export async function sessionsRevoke(
  services: Services,
  userId: string,
  sessionId: string | undefined,
  json: boolean,
  out: Out,
): Promise<number> {
  const revoked =
    sessionId === undefined
      ? (await services.sessions.revokeAll(userId, 'admin')).length
      : (await services.sessions.revoke(userId, sessionId, 'admin'))
        ? 1
        : 0;
  out(json ? JSON.stringify({ revoked }) : String(revoked));
  return sessionId !== undefined && revoked === 0 ? 1 : 0;
}

/**
 * `holdfast sessions revoke --all --yes` (and its older name `sessions revoke-all --yes`): every session and remember-me series of every user ends
 * (ASVS V7.4.5). Prints how many sessions ended (`{"revoked": n, "series": m}` with --json). Safe
 * to run again after a store error: what was ended stays ended.
 */
export async function sessionsRevokeAll(
  services: Services,
  json: boolean,
  out: Out,
): Promise<number> {
  const ended = await services.sessions.revokeEveryone();
  out(
    json
      ? JSON.stringify({ revoked: ended.sessions, series: ended.series })
      : String(ended.sessions),
  );
  return 0;
}
