import type { Services } from '../../server/services';
import { UserInputError } from '../../users';
import type { Out } from '../output';

/**
 * `holdfast users create --email E --password-stdin`: a password account, e.g. the first admin.
 * The password is read from standard input, never from an argument (visible in `ps`, shell history).
 */
export async function usersCreate(
  services: Services,
  email: string,
  password: string,
  json: boolean,
  out: Out,
): Promise<number> {
  const user = await services.accounts.createUser({ email, password });
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

/** The first line of standard input, without its line break. */
export async function readFirstLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0];
}
