import type { Services } from '../../server/services';

/** `holdfast sessions count`: live sessions and users across the deployment, O(shards). */
export async function sessionsCount(services: Services, json: boolean): Promise<number> {
  const c = await services.sessions.count();
  process.stdout.write(
    json ? `${JSON.stringify({ sessions: c.sessions, users: c.users })}\n` : `${c.sessions}\n`,
  );
  return 0;
}

/** `holdfast sessions list --user ID`: one line per live session; never a token or its hash. */
export async function sessionsList(
  services: Services,
  userId: string,
  json: boolean,
): Promise<number> {
  const list = await services.sessions.list(userId);
  const rows = list.map((s) => ({
    id: s.id,
    method: s.method,
    createdAt: new Date(s.createdAt).toISOString(),
    lastSeenAt: new Date(s.lastSeenAt).toISOString(),
    expiresAt: new Date(s.expiresAt).toISOString(),
    ip: s.ip,
    userAgent: s.userAgent,
  }));
  if (json) process.stdout.write(`${JSON.stringify(rows)}\n`);
  else
    for (const r of rows)
      process.stdout.write(`${r.id}  ${r.createdAt}  ${r.lastSeenAt}  ${r.ip}  ${r.userAgent}\n`);
  return 0;
}

/** `holdfast sessions revoke --user X | --session <shard.id>`. */
export async function sessionsRevoke(
  services: Services,
  userId: string | undefined,
  session: string | undefined,
): Promise<number> {
  if (userId && !session) {
    const ended = await services.sessions.revokeAll(userId, 'admin');
    process.stdout.write(`${ended.length}\n`);
    return 0;
  }
  if (userId && session) {
    const done = await services.sessions.revoke(userId, session, 'admin');
    process.stdout.write(`${done ? 1 : 0}\n`);
    return done ? 0 : 1;
  }
  process.stderr.write(
    "holdfast: sessions revoke needs --user ID (all of that user's sessions) and optionally --session ID\n",
  );
  return 64;
}
