import type { Services } from '../../server/services';
import { UserExistsError, UserInputError } from '../../users';
import type { Out } from '../output';

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
 * `holdfast users disable --email E` and `users delete --email E`: the user can no longer sign in
 * (delete also removes the record and frees the address); every session and remember-me series
 * ends at once. Prints the user's id; an unknown address exits 65.
 */
export async function usersEnd(
  services: Services,
  action: 'disable' | 'delete',
  email: string,
  json: boolean,
  out: Out,
): Promise<number> {
  const address = services.accounts.checkEmail(email);
  const user = await services.users.findByEmail(address);
  const done =
    user &&
    (action === 'disable'
      ? await services.accounts.disableUser(user.id)
      : await services.accounts.deleteUser(user.id));
  if (!user || !done) throw new UserInputError('email', 'no user has this address');
  out(json ? JSON.stringify({ id: user.id, email: user.email, [`${action}d`]: true }) : user.id);
  return 0;
}
