/**
 * Builds src/accounts/data/common-passwords.txt, the list of the most common passwords that
 * registration and password change refuse (ADR 070, docs/security.md), from the list Django
 * ships: django/contrib/auth/common-passwords.txt.gz (BSD-3-Clause), Royce Williams' 20,000 most
 * frequent passwords of Have I Been Pwned's Pwned Passwords, most frequent first, lower-cased and
 * deduplicated. The output is committed: nothing is fetched or installed at run time.
 *
 *   pip download --no-deps --only-binary=:all: -d /tmp/django django==5.2.19
 *   node -r ts-node/register/transpile-only scripts/common-passwords.ts \
 *     /tmp/django/django-5.2.19-py3-none-any.whl
 *
 * The argument is the wheel (read with `unzip -p`) or the .txt.gz itself; an optional second
 * argument is how many to keep (10000). Each entry is folded as the check folds a password (NFC,
 * lower case, trimmed), duplicates after folding are dropped, and the order is kept.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { foldPassword } from '../src/accounts/password-policy';

const MEMBER = 'django/contrib/auth/common-passwords.txt.gz';
const OUT = path.join(__dirname, '..', 'src', 'accounts', 'data', 'common-passwords.txt');

function main(argv: string[]): number {
  const [source, countArg] = argv;
  if (!source) {
    console.error('usage: common-passwords.ts <django wheel or common-passwords.txt.gz> [count]');
    return 2;
  }
  const count = Number(countArg ?? 10000);
  const gz = source.endsWith('.whl')
    ? execFileSync('unzip', ['-p', source, MEMBER], { maxBuffer: 16 * 1024 * 1024 })
    : fs.readFileSync(source);
  const text = gunzipSync(gz).toString('utf8');
  const kept: string[] = [];
  const seen = new Set<string>();
  for (const line of text.split('\n')) {
    const folded = foldPassword(line);
    if (folded === '' || seen.has(folded)) continue;
    seen.add(folded);
    kept.push(folded);
    if (kept.length === count) break;
  }
  if (kept.length < count) {
    console.error(`only ${kept.length} distinct entries in ${source}; asked for ${count}`);
    return 1;
  }
  const body = `${kept.join('\n')}\n`;
  fs.writeFileSync(OUT, body);
  const sha = (b: Buffer | string) => createHash('sha256').update(b).digest('hex');
  console.log(`source ${path.basename(source)} list sha256 ${sha(gz)}`);
  console.log(`wrote ${kept.length} entries to ${path.relative(process.cwd(), OUT)}`);
  console.log(`output sha256 ${sha(body)}`);
  return 0;
}

process.exitCode = main(process.argv.slice(2));
