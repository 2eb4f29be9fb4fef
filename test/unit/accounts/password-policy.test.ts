/**
 * New passwords (ASVS 5.0 V6.2.4, V6.2.11, V6.2.12): the 10,000 most common are refused, so are
 * passwords that are or contain the account's email or name, and, through the host app's
 * k-anonymity lookup, breached ones. Every rule runs through the real AccountService (register,
 * `users create`, password change) on the memory store.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { loadSettings } from '../../../src/config';
import {
  BreachedPasswordLookup,
  BreachedSuffix,
  COMMON_PASSWORDS_FILE,
  foldPassword,
  parsePwnedRange,
} from '../../../src/accounts/password-policy';
import { createServices, Services } from '../../../src/server/services';
import type { ClientInfo } from '../../../src/session';
import { HoldfastError } from '../../../src/errors';

const CLIENT: ClientInfo = { ip: '127.0.0.1', userAgent: 'jest' };
const GOOD = 'correct horse battery';

let seq = 0;
const email = (local = 'user') => `${local}+${process.pid}.${++seq}@example.com`;

function services(options: Parameters<typeof createServices>[1] = {}): Services {
  return createServices(loadSettings({ env: { NODE_ENV: 'test' } }), options);
}

/** The HoldfastError a promise rejects with (fails the test when it resolves). */
async function refusal(p: Promise<unknown>): Promise<HoldfastError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(err instanceof HoldfastError)) throw new Error(`expected a refusal, got ${String(err)}`);
  return err;
}

const LIST = readFileSync(COMMON_PASSWORDS_FILE, 'utf8').split('\n').slice(0, -1);

describe('the vendored common-password list', () => {
  test('holds 10,000 distinct entries, each already in the folded form the check compares', () => {
    expect(LIST).toHaveLength(10000);
    expect(new Set(LIST).size).toBe(10000);
    expect(LIST.filter((p) => p === '' || foldPassword(p) !== p)).toEqual([]);
    // Most frequent first (Pwned Passwords order), so the head is what everyone tries first.
    expect(LIST.slice(0, 4)).toEqual(['123456', '123456789', 'qwerty', 'password']);
  });

  test('at least 3,000 of them are long enough to pass password.minLength (ASVS 6.2.4)', () => {
    const min = loadSettings({ env: { NODE_ENV: 'test' } }).password.minLength;
    expect(LIST.filter((p) => [...p].length >= min).length).toBeGreaterThanOrEqual(3000);
  });
});

describe('common passwords are refused', () => {
  const s = services();
  const long = LIST.filter((p) => [...p].length >= 8);

  test('at registration, case-insensitively and after NFC, naming the field, never echoing it', async () => {
    // A composed entry typed decomposed (NFD) is the same password.
    const composed = long.find((p) => p.normalize('NFD') !== p) as string;
    for (const weak of ['Password1', 'ILOVEYOU', '  qwerty123  ', composed.normalize('NFD')]) {
      const address = email();
      const err = await refusal(s.accounts.register({ email: address, password: weak }, CLIENT));
      expect(err.code).toBe('HF_USER_INVALID');
      expect(err.message).toMatch(/^password: is one of the 10,000 most common passwords/);
      expect(err.message).not.toContain(weak.trim());
      expect(err.message.toLowerCase()).not.toContain(foldPassword(weak));
      expect(await s.users.findByEmail(address)).toBeNull();
    }
  });

  test('an entry deep in the list (its last long one) is refused too; a password not on it is not', async () => {
    const last = long[long.length - 1];
    expect(LIST.indexOf(last)).toBeGreaterThan(9000);
    await refusal(s.accounts.createUser({ email: email(), password: last.toUpperCase() }));
    const user = await s.accounts.createUser({ email: email(), password: GOOD });
    expect(user.passwordHash).toBeTruthy();
  });

  test('at password change (newPassword), and the old password still works', async () => {
    const address = email();
    const { issued } = await s.accounts.register({ email: address, password: GOOD }, CLIENT);
    const err = await refusal(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: GOOD, newPassword: 'iloveyou' },
        CLIENT,
      ),
    );
    expect(err.message).toMatch(/^newPassword: is one of the 10,000 most common passwords/);
    const again = await s.accounts.login({ email: address, password: GOOD }, CLIENT);
    expect(again.user.email).toBe(address);
  });
});

describe("the account's email and name are refused in its password (ASVS 6.2.11)", () => {
  const s = services();

  test('equal to or containing the email, its part before the @, or a piece of it', async () => {
    for (const [local, password] of [
      ['ada.lovelace', 'Ada.Lovelace+2024'],
      ['ada.lovelace', 'i am lovelace, really'],
      ['bartholomew', 'my name is BARTHOLOMEW!'],
    ]) {
      const err = await refusal(s.accounts.register({ email: email(local), password }, CLIENT));
      expect(err.message).toBe(
        'password: must not contain the email address or its part before the @: choose one that is harder to guess',
      );
    }
    const whole = `zed.${process.pid}@example.com`;
    const err = await refusal(s.accounts.register({ email: whole, password: whole }, CLIENT));
    expect(err.message).toMatch(/^password: must not contain the email address/);
  });

  test('pieces shorter than 4 characters may appear (chance hits in passphrases)', async () => {
    const user = await s.accounts.createUser({
      email: `jo.${process.pid}.${++seq}@example.com`,
      password: 'jo walks a long way home',
    });
    expect(user.email).toMatch(/^jo\./);
  });

  test('equal to or containing the name, or one of its words', async () => {
    for (const password of ['Grace Hopper 1906', 'amazing gracehopper', 'hopper-hopper-hopper']) {
      const err = await refusal(
        s.accounts.register({ email: email(), password, name: 'Grace Hopper' }, CLIENT),
      );
      expect(err.message).toBe(
        'password: must not contain the name given for the account: choose one that is harder to guess',
      );
    }
  });

  test('at password change too, against the stored email and name', async () => {
    const address = email('margaret');
    const { issued } = await s.accounts.register(
      { email: address, password: GOOD, name: 'Hamilton' },
      CLIENT,
    );
    for (const [newPassword, rule] of [
      ['margaret was here', 'email address'],
      ['hamilton was here', 'name'],
    ]) {
      const err = await refusal(
        s.accounts.changePassword(issued!.session, { currentPassword: GOOD, newPassword }, CLIENT),
      );
      expect(err.message).toMatch(new RegExp(`^newPassword: must not contain the ${rule}`));
    }
  });
});

describe('breached passwords through the host app’s k-anonymity lookup', () => {
  const BREACHED = 'Tr0ub4dor&3 of the breach';
  const sha1 = (p: string) => createHash('sha1').update(p, 'utf8').digest('hex').toUpperCase();

  /** A lookup that knows one breached password (and a padding entry), and records its calls. */
  function fixedLookup() {
    const calls: string[][] = [];
    const lookup: BreachedPasswordLookup = async (prefix, opts) => {
      calls.push([prefix, ...Object.keys(opts)]);
      const known: BreachedSuffix[] = [{ suffix: sha1(BREACHED).slice(5), count: 3 }];
      const padding = { suffix: sha1(GOOD).slice(5), count: 0 };
      return prefix === sha1(BREACHED).slice(0, 5) ? known : [padding];
    };
    return { lookup, calls };
  }

  test('a breached password is refused; the lookup sees only the 5-digit SHA-1 prefix', async () => {
    const { lookup, calls } = fixedLookup();
    const s = services({ breachedPassword: lookup });
    const err = await refusal(s.accounts.register({ email: email(), password: BREACHED }, CLIENT));
    expect(err.message).toBe(
      'password: appears in a list of passwords exposed in data breaches: choose another one',
    );
    expect(calls).toEqual([[sha1(BREACHED).slice(0, 5), 'signal']]);
    expect(JSON.stringify(calls)).not.toContain(sha1(BREACHED).slice(5));
  });

  test('a password the lookup does not know, or knows with count 0 (padding), is accepted', async () => {
    const { lookup, calls } = fixedLookup();
    const s = services({ breachedPassword: lookup });
    await s.accounts.createUser({ email: email(), password: GOOD });
    await s.accounts.createUser({ email: email(), password: 'an unbreached passphrase' });
    expect(calls).toHaveLength(2);
  });

  test('no lookup is asked for a password another rule already refuses', async () => {
    const { lookup, calls } = fixedLookup();
    const s = services({ breachedPassword: lookup });
    await refusal(s.accounts.createUser({ email: email(), password: 'password1' }));
    expect(calls).toEqual([]);
  });

  test('at password change too', async () => {
    const { lookup } = fixedLookup();
    const s = services({ breachedPassword: lookup });
    const { issued } = await s.accounts.register({ email: email(), password: GOOD }, CLIENT);
    const err = await refusal(
      s.accounts.changePassword(
        issued!.session,
        { currentPassword: GOOD, newPassword: BREACHED },
        CLIENT,
      ),
    );
    expect(err.message).toMatch(/^newPassword: appears in a list of passwords exposed/);
  });

  test('fails open: a lookup that throws, hangs or answers garbage accepts the password and emits breachCheckFailed', async () => {
    let aborted = false;
    const cases: Array<[string, BreachedPasswordLookup]> = [
      [
        'error',
        async () => {
          throw new Error('range API answered 503');
        },
      ],
      [
        'timeout',
        (_prefix, { signal }) =>
          new Promise(() => {
            signal.addEventListener('abort', () => (aborted = true));
          }),
      ],
      ['invalid', async () => null as unknown as BreachedSuffix[]],
    ];
    for (const [cause, lookup] of cases) {
      const s = services({ breachedPassword: lookup, breachedPasswordTimeoutMs: 20 });
      const seen: unknown[] = [];
      s.events.on('breachCheckFailed', (e) => seen.push(e));
      const user = await s.accounts.createUser({ email: email(), password: BREACHED });
      expect(user.passwordHash).toBeTruthy();
      expect(seen).toEqual([{ cause, message: expect.any(String) }]);
      expect(JSON.stringify(seen)).not.toContain(BREACHED);
      expect(s.events.stats.breachCheckFailures).toBe(1);
    }
    expect(aborted).toBe(true);
  });

  test('parsePwnedRange reads the range API format, padding lines included', () => {
    const text = `${sha1(BREACHED).slice(5)}:3\r\n${'0'.repeat(35)}:0\r\nnot a line\r\n`;
    expect(parsePwnedRange(text)).toEqual([
      { suffix: sha1(BREACHED).slice(5), count: 3 },
      { suffix: '0'.repeat(35), count: 0 },
    ]);
  });
});
