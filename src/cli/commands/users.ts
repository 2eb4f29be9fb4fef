import { StoreUnavailableError } from '../../errors';
import type { Services } from '../../server/services';
import { UserExistsError, UserInputError } from '../../users';
import type { Out } from '../output';
import { formatTable } from '../table';

/**
 * `holdfast users create --email E`: a password account, e.g. the first admin. The password comes
 * from a no-echo prompt on a terminal or the first line of standard input (cli/password.ts), never
 * from an argument (visible in `ps` and shell history). Prints the new user's id.
 */
export async function usersCreate(
  services: Services,
  email: string,
  password: () => Promise<string>,
  json: boolean,
  out: Out,
): Promise<number> {
  // The address is checked before the prompt: nobody types a password twice for a typo or a
  // taken address (createUser checks again: another process may take it meanwhile).
  if (await services.users.findByEmail(services.accounts.checkEmail(email))) {
    throw new UserExistsError();
  }
  const user = await services.accounts.createUser({ email, password: await password() });
  out(json ? JSON.stringify({ id: user.id, email: user.email }) : user.id);
  return 0;
}

/**
 * `holdfast users disable|enable|delete --email E`: disable ends every session and remember-me
 * series at once and stops sign-in; enable lets the user sign in again (nothing that ended comes
 * back); delete removes the record, its linked identities and frees the address. Prints the
 * user's id; an unknown address exits 65.
 */
export async function usersEnd(
  services: Services,
  action: 'disable' | 'enable' | 'delete',
  email: string,
  json: boolean,
  out: Out,
): Promise<number> {
  const user = await services.admin.find({ email });
  if (!user) throw new UserInputError('email', 'no user has this address');
  const deferred: string[] = [];
  const note = (e: { userId: string }) => deferred.push(e.userId);
  services.events.on('revocationDeferred', note);
  let done: boolean;
  try {
    done = await services.admin[action]({ userId: user.id });
  } catch (err) {
    // Written, but the sessions did not end (ADR 272): a repeated delete would find no user, and
    // this process does not stay to retry, so the line says what ends them.
    if (!(err instanceof StoreUnavailableError) || !deferred.includes(user.id)) throw err;
    throw new StoreUnavailableError(
      `users ${action}`,
      err.message,
      `user ${user.id} ${action}d, but their sessions were not ended: once the store answers, run holdfast sessions revoke --user ${user.id}; session store unavailable`,
    );
  } finally {
    services.events.off('revocationDeferred', note);
  }
  if (!done) throw new UserInputError('email', 'no user has this address');
  out(json ? JSON.stringify({ id: user.id, email: user.email, [`${action}d`]: true }) : user.id);
  return 0;
}

export const SHOW_COLUMNS = [
  'ID',
  'EMAIL',
  'STATUS',
  'VERIFIED',
  'CREATED',
  'SESSIONS',
  'IDENTITIES',
  'ROLES',
] as const;

/**
 * `holdfast users show --email E`: one row (or one JSON object) saying what an administrator
 * needs to know: id, status, whether the address is verified, created, live sessions, linked
 * provider accounts, roles. Never a hash or a token. An unknown address exits 65.
 */
export async function usersShow(
  services: Services,
  email: string,
  json: boolean,
  out: Out,
): Promise<number> {
  const a = await services.admin.show({ email });
  if (!a) throw new UserInputError('email', 'no user has this address');
  if (json) {
    const { id, email: address, status, emailVerified, createdAt, sessions } = a;
    const { identities, roles } = a;
    out(
      JSON.stringify({
        id,
        email: address,
        status,
        emailVerified,
        createdAt,
        sessions,
        identities,
        roles,
      }),
    );
    return 0;
  }
  const row = [
    a.id,
    a.email,
    a.status,
    a.emailVerified ? 'yes' : 'no',
    a.createdAt.replace(/\.\d{3}Z$/, 'Z'),
    String(a.sessions),
    a.identities.map((i) => `${i.provider}:${i.subject}`).join(',') || '-',
    a.roles.join(',') || '-',
  ];
  for (const line of formatTable(SHOW_COLUMNS, [row])) out(line);
  return 0;
}

/**
 * `holdfast users roles --email E [--set a,b]`: prints the user's roles, one per line, after
 * replacing them when `--set` is given (`--set ""` removes every role). Roles become the
 * credentials' `scope`, read on every scoped request, so a removed role stops working at once.
 */
export async function usersRoles(
  services: Services,
  email: string,
  set: string | undefined,
  json: boolean,
  out: Out,
): Promise<number> {
  const user = await services.users.findByEmail(services.accounts.checkEmail(email));
  if (!user) throw new UserInputError('email', 'no user has this address');
  if (set !== undefined) {
    const roles = set
      .split(',')
      .map((r) => r.trim())
      .filter((r) => r !== '');
    if (!(await services.accounts.setRoles(user.id, roles))) {
      throw new UserInputError('email', 'no user has this address');
    }
  }
  const roles = await services.accounts.rolesOf(user.id);
  if (json) out(JSON.stringify({ id: user.id, email: user.email, roles }));
  else roles.forEach((r) => out(r));
  return 0;
}
