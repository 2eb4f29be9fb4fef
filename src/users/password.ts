import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { HashQueue } from './hash-queue';

/**
 * Password hashing with node:crypto scrypt (no native dependency). OWASP's recommendation is
 * N = 2^17, r = 8, p = 1; the cost N comes from settings (password.cost) so the test suite can
 * run cheaper. Parameters are stored with each hash, so raising the cost later re-hashes a
 * user's password at their next login (`needsRehash`) and old hashes keep working meanwhile.
 *
 * Format: `$scrypt$ln=<log2 N>,r=<r>,p=<p>$<salt base64>$<key base64>`
 */
const R = 8;
const P = 1;
/** OWASP's minimum scrypt cost with r = 8, p = 1 (Password Storage Cheat Sheet); preflight's floor in production. */
export const OWASP_MIN_SCRYPT_COST = 2 ** 17;
export const SCRYPT_BLOCK_SIZE = R;
export const SCRYPT_PARALLELISM = P;
const SALT_BYTES = 16;
const KEY_BYTES = 32;
/** log2 of the largest N verified: password.cost's own maximum (2^20, config/schema.ts). */
const MAX_LN = 20;
const FORMAT =
  /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+={0,2})\$([A-Za-z0-9+/]+={0,2})$/;

export interface VerifyResult {
  readonly ok: boolean;
  /** The hash was made with other parameters than today's: store a fresh one. */
  readonly needsRehash: boolean;
}

function derive(
  password: string,
  salt: Buffer,
  n: number,
  r: number,
  p: number,
  len: number,
): Promise<Buffer> {
  // scrypt needs 128 * N * r bytes; Node's default cap (32 MiB) is below OWASP's 128 MiB.
  const maxmem = 128 * n * r * p + 64 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    scrypt(password.normalize('NFC'), salt, len, { N: n, r, p, maxmem }, (err, key) =>
      err ? reject(err) : resolve(key),
    );
  });
}

export class PasswordHasher {
  private readonly ln: number;
  /** A hash of nothing anyone knows, verified when the email is unknown so both paths do the same work. */
  private dummy: Promise<string> | undefined;

  /**
   * `queue` bounds how many hashes run at once (server/services.ts builds it from settings);
   * verifications take its `verify` lane, new hashes its `hash` lane. Without one, no bound.
   */
  constructor(
    readonly cost: number,
    readonly queue: HashQueue = new HashQueue(Number.MAX_SAFE_INTEGER, 0),
  ) {
    if (!Number.isInteger(Math.log2(cost)) || cost < 2) {
      throw new RangeError(`password.cost must be a power of two, got ${cost}`);
    }
    this.ln = Math.log2(cost);
  }

  hash(password: string): Promise<string> {
    return this.queue.run('hash', () => this.hashNow(password));
  }

  /** Constant-time check of a password against a stored hash; a malformed hash never matches. */
  async verify(password: string, stored: string): Promise<VerifyResult> {
    return this.queue.run('verify', () => this.verifyNow(password, stored));
  }

  /** Spends the same work as a real verification and always fails (unknown email, no password). */
  async verifyDummy(password: string): Promise<VerifyResult> {
    await this.queue.run('verify', async () => {
      this.dummy ??= this.hashNow(randomBytes(32).toString('base64'));
      await this.verifyNow(password, await this.dummy);
    });
    return { ok: false, needsRehash: false };
  }

  private async hashNow(password: string): Promise<string> {
    const salt = randomBytes(SALT_BYTES);
    const key = await derive(password, salt, this.cost, R, P, KEY_BYTES);
    return `$scrypt$ln=${this.ln},r=${R},p=${P}$${salt.toString('base64')}$${key.toString('base64')}`;
  }

  private async verifyNow(password: string, stored: string): Promise<VerifyResult> {
    const m = FORMAT.exec(stored);
    if (!m) return { ok: false, needsRehash: true };
    const [ln, r, p] = [Number(m[1]), Number(m[2]), Number(m[3])];
    const salt = Buffer.from(m[4], 'base64');
    const expected = Buffer.from(m[5], 'base64');
    // A stored hash asking for more work than any password.cost can is refused, not computed.
    if (ln < 1 || ln > MAX_LN || r < 1 || p < 1 || expected.length < 16)
      return { ok: false, needsRehash: true };
    const key = await derive(password, salt, 2 ** ln, r, p, expected.length);
    const ok = timingSafeEqual(key, expected);
    return { ok, needsRehash: ln !== this.ln || r !== R || p !== P || salt.length !== SALT_BYTES };
  }
}
