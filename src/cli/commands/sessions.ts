import type { Services } from '../../server/services';
import type { Out } from '../output';

/** `holdfast sessions count`: live sessions and users across the deployment, O(shards). */
export async function sessionsCount(services: Services, json: boolean, out: Out): Promise<number> {
  const c = await services.sessions.count();
  out(json ? JSON.stringify({ sessions: c.sessions, users: c.users }) : String(c.sessions));
  return 0;
}

/** `holdfast sessions list --user ID`: one line per live session; never a token or its hash. */
export async function sessionsList(
  services: Services,
  userId: string,
  json: boolean,
  out: Out,
): Promise<number> {
  const rows = (await services.sessions.list(userId)).map((s) => ({
    id: s.id,
    method: s.method,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
  }));
  if (json) out(JSON.stringify(rows));
  else
    for (const r of rows) out(`${r.id}  ${r.createdAt}  ${r.lastSeenAt}  ${r.ip}  ${r.userAgent}`);
  return 0;
}

/** `holdfast sessions revoke --user X [--session ID]`: prints how many sessions ended. */
export async function sessionsRevoke(
  services: Services,
  userId: string,
  sessionId: string | undefined,
  out: Out,
): Promise<number> {
  if (sessionId === undefined) {
    out(String((await services.sessions.revokeAll(userId, 'admin')).length));
    return 0;
  }
  const done = await services.sessions.revoke(userId, sessionId, 'admin');
  out(done ? '1' : '0');
  return done ? 0 : 1;
}
