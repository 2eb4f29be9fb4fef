/**
 * PasswordPolicy on its own: the exact messages a user reads, the length bounds, how the email
 * and name are cut into the words a password must not contain, and the breach lookup end to end
 * against a real HTTP server on loopback that answers in the Pwned Passwords range format (its
 * parsing, a match among many suffixes, the timeout with its abort, the failure messages).
 */
import { createHash } from 'node:crypto';
import { createServer, IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BreachCheckFailure,
  BreachedPasswordLookup,
  commonPasswords,
  parsePwnedRange,
  PasswordPolicy,
} from '../../../src/accounts/password-policy';
import { UserInputError } from '../../../src/users';

const GOOD = 'correct horse battery';
const sha1 = (p: string) => createHash('sha1').update(p, 'utf8').digest('hex').toUpperCase();

function policy(extra: Partial<ConstructorParameters<typeof PasswordPolicy>[0]> = {}) {
  return new PasswordPolicy({ minLength: 8, maxLength: 64, ...extra });
}

/** The message of the UserInputError `fn` throws (fails the test when it throws none). */
function refusal(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UserInputError);
    return (err as Error).message;
  }
  throw new Error('expected a refusal');
}

describe('the messages and bounds of check()', () => {
  // First in the file: the list is read once per module load, so only this test reads it here.
  test('the common list as loaded holds its 10,000 entries and no empty one', () => {
    const list = commonPasswords();
    expect(list.size).toBe(10000);
    expect(list.has('')).toBe(false);
    expect(list.has('password')).toBe(true);
  });

  test('a password that is not text, too short or too long is refused with the rule and its number', () => {
    const p = policy();
    expect(refusal(() => p.check(12345678, 'password'))).toBe('password: must be text');
    expect(refusal(() => p.check('seven77', 'newPassword'))).toBe(
      'newPassword: must be at least 8 characters',
    );
    expect(refusal(() => p.check('x'.repeat(65), 'password'))).toBe(
      'password: must be at most 64 characters',
    );
  });

  test('spaces at the ends do not count toward minLength; spaces inside do', () => {
    const p = policy();
    const rule = 'password: must be at least 8 characters besides spaces at its start and end';
    expect(refusal(() => p.check(' '.repeat(8), 'password'))).toBe(rule);
    expect(refusal(() => p.check(' '.repeat(64), 'password'))).toBe(rule);
    expect(refusal(() => p.check('  qzv7 k2  ', 'password'))).toBe(rule);
    // Exactly minLength once trimmed passes, and the password is returned as typed.
    expect(p.check('  qzv7 k2w ', 'password')).toBe('  qzv7 k2w ');
  });

  test('exactly maxLength code points is accepted, one more is refused (emoji count as one)', () => {
    const p = policy();
    const exact = `${'🐴'.repeat(32)}${'q'.repeat(32)}`; // 64 code points, 96 UTF-16 units
    expect(p.check(exact, 'password')).toBe(exact);
    expect(refusal(() => p.check(`${exact}🐴`, 'password'))).toBe(
      'password: must be at most 64 characters',
    );
  });
});

describe('the words of the email and the name', () => {
  const p = policy();
  const emailRule =
    'password: must not contain the email address or its part before the @: choose one that is harder to guess';
  const nameRule =
    'password: must not contain the name given for the account: choose one that is harder to guess';

  test('the whole part before the @ is a word, even when its pieces are too short to be', () => {
    expect(refusal(() => p.check('say ab.cd twice', 'password', { email: 'ab.cd@x.io' }))).toBe(
      emailRule,
    );
    // The domain is not a word: a password may mention it.
    expect(p.check('an example of a domain', 'password', { email: 'ab.cd@example.com' })).toBe(
      'an example of a domain',
    );
  });

  test('the email is folded like the password: surrounding spaces and case do not matter', () => {
    expect(refusal(() => p.check('say ab.cd twice', 'password', { email: '  AB.CD@x.io ' }))).toBe(
      emailRule,
    );
  });

  test('an address with no @, or with nothing before it, is all local part', () => {
    // No @: the pieces are those of the whole text, the last one whole.
    expect(p.check('abcdeZ is fine here', 'password', { email: 'xx-abcdef' })).toBe(
      'abcdeZ is fine here',
    );
    expect(refusal(() => p.check('my abcdef here', 'password', { email: 'xx-abcdef' }))).toBe(
      emailRule,
    );
    expect(refusal(() => p.check('my abcdefgh here', 'password', { email: '@abcdefgh' }))).toBe(
      emailRule,
    );
  });

  test('a word of exactly 4 characters counts; 3 do not', () => {
    expect(refusal(() => p.check('zeta is my word', 'password', { name: 'Zeta' }))).toBe(nameRule);
    expect(refusal(() => p.check('and zeta again', 'password', { email: 'zeta@x.io' }))).toBe(
      emailRule,
    );
    expect(p.check('the eta of it all', 'password', { name: 'Eta' })).toBe('the eta of it all');
  });

  test('the name without its spaces is a word, even when each of its words is too short', () => {
    expect(refusal(() => p.check('xx albocy yy', 'password', { name: 'Al Bo Cy' }))).toBe(nameRule);
    expect(refusal(() => p.check('xx al9bo yy', 'password', { name: 'Al 9 Bo' }))).toBe(nameRule);
    // Each word of it, when long enough, on its own.
    expect(refusal(() => p.check('xx cyrus yy', 'password', { name: 'Al Bo Cyrus' }))).toBe(
      nameRule,
    );
    // With its spaces too, once the surrounding ones are gone.
    expect(refusal(() => p.check('xal bo cyx', 'password', { name: '  Al Bo Cy  ' }))).toBe(
      nameRule,
    );
  });
});

/** A Pwned Passwords-like range server on loopback: GET /range/<prefix> answers `bodies[prefix]`. */
class RangeServer {
  readonly bodies = new Map<string, string>();
  readonly asked: string[] = [];
  /** Prefixes whose request is held without an answer, and whether the client gave up on it. */
  readonly hang = new Set<string>();
  readonly closedEarly: string[] = [];
  private server!: Server;

  async start(): Promise<void> {
    this.server = createServer((req: IncomingMessage, res) => {
      const prefix = (req.url ?? '').replace('/range/', '');
      this.asked.push(prefix);
      if (this.hang.has(prefix)) {
        res.on('close', () => this.closedEarly.push(prefix));
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(this.bodies.get(prefix) ?? '');
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  /** The lookup a host app would write: fetch the range, parse it with parsePwnedRange. */
  lookup(): BreachedPasswordLookup {
    const { port } = this.server.address() as AddressInfo;
    return async (prefix, { signal }) => {
      const res = await fetch(`http://127.0.0.1:${port}/range/${prefix}`, { signal });
      if (!res.ok) throw new Error(`range API answered ${res.status}`);
      return parsePwnedRange(await res.text());
    };
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }
}

describe('the breach lookup against a range server on loopback', () => {
  const BREACHED = 'Tr0ub4dor&3 of the breach';
  const prefix = sha1(BREACHED).slice(0, 5);
  const suffix = sha1(BREACHED).slice(5);
  const other = (n: number) => n.toString(16).toUpperCase().padStart(35, '0');
  const range = new RangeServer();
  beforeAll(() => range.start());
  afterAll(() => range.stop());

  function withFailures(extra: Partial<ConstructorParameters<typeof PasswordPolicy>[0]> = {}) {
    const failures: Array<[BreachCheckFailure, string]> = [];
    const p = policy({
      breached: range.lookup(),
      onLookupFailed: (cause, message) => failures.push([cause, message]),
      ...extra,
    });
    return { p, failures };
  }

  test('the password is refused when its suffix is one of many in the answer (LF lines, two-digit count)', async () => {
    range.bodies.set(
      prefix,
      [`${other(1)}:5`, `${suffix.toLowerCase()}:12`, `${other(2)}:0`, ''].join('\n'),
    );
    const { p, failures } = withFailures();
    await expect(p.checkBreached(BREACHED, 'password')).rejects.toThrow(
      'password: appears in a list of passwords exposed in data breaches: choose another one',
    );
    expect(range.asked.at(-1)).toBe(prefix);
    expect(failures).toEqual([]);
  });

  test('other suffixes with counts do not refuse a password that is not among them', async () => {
    const p2 = sha1(GOOD).slice(0, 5);
    range.bodies.set(p2, [`${other(1)}:5`, `${other(2)}:7`].join('\r\n'));
    const { p, failures } = withFailures();
    await expect(p.checkBreached(GOOD, 'password')).resolves.toBeUndefined();
    expect(range.asked.at(-1)).toBe(p2);
    expect(failures).toEqual([]);
  });

  test('parsePwnedRange: LF or CRLF, trailing spaces, multi-digit counts; a line with more or other text is no entry', () => {
    const text = [
      `${other(1)}:12  `,
      `${other(2)}:3\r`,
      `F${other(3)}:4`, // 36 hex digits
      `${other(4)}:4x`,
      `${other(5)}:`,
      `${other(6).toLowerCase()}:0`,
    ].join('\n');
    expect(parsePwnedRange(text)).toEqual([
      { suffix: other(1), count: 12 },
      { suffix: other(2), count: 3 },
      { suffix: other(6), count: 0 },
    ]);
  });

  test('a lookup that does not answer in time is aborted, and the password accepted with a message naming the timeout', async () => {
    const p3 = sha1('nobody answers for this one').slice(0, 5);
    range.hang.add(p3);
    const { p, failures } = withFailures({ breachedTimeoutMs: 50 });
    await expect(p.checkBreached('nobody answers for this one', 'password')).resolves.toBe(
      undefined,
    );
    expect(failures).toEqual([['timeout', 'no answer within 50 ms']]);
    // The abort reached the HTTP request: the server saw the client go.
    for (let i = 0; i < 100 && !range.closedEarly.includes(p3); i++) {
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(range.closedEarly).toContain(p3);
  });

  test('the failure messages: the error class and first line only, at most 200 characters', async () => {
    const cases: Array<[BreachedPasswordLookup, BreachCheckFailure, string]> = [
      [
        async () => {
          throw new TypeError('range API answered 503\n    at secret.stack (frame:1)');
        },
        'error',
        'TypeError: range API answered 503',
      ],
      [
        async () => {
          throw `plain ${'x'.repeat(300)}`;
        },
        'error',
        `plain ${'x'.repeat(194)}`,
      ],
      [
        async () => null as unknown as BreachedPasswordLookup[],
        'invalid',
        'the lookup answered no list of suffixes: TypeError: ',
      ],
    ] as never;
    for (const [lookup, cause, message] of cases) {
      const { p, failures } = withFailures({ breached: lookup });
      await p.checkBreached(GOOD, 'password');
      expect(failures).toHaveLength(1);
      expect(failures[0][0]).toBe(cause);
      if (cause === 'invalid') {
        expect(failures[0][1].startsWith(message)).toBe(true);
        expect(failures[0][1].length).toBeGreaterThan(message.length);
      } else expect(failures[0][1]).toBe(message);
      expect(failures[0][1].length).toBeLessThanOrEqual(200);
    }
  });

  test('an answered lookup leaves no timer behind', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      const p = policy({ breached: async () => [], breachedTimeoutMs: 60_000 });
      await p.checkBreached(GOOD, 'password');
      expect(jest.getTimerCount()).toBe(0);
    } finally {
      jest.useRealTimers();
    }
  });
});
