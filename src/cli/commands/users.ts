import type { Services } from '../../server/services';
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

/** The first line of standard input, without its line break. */
export async function readFirstLine(input: NodeJS.ReadableStream = process.stdin): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0];
}
