/**
 * Scans the logs a test run produced for secrets: session and remember-me tokens, cookie and
 * authorization header values, password/secret/token fields that escaped redaction, and canary
 * strings (test passwords) the tests registered. Run by `make test` after jest:
 *
 *   node -r ts-node/register/transpile-only scripts/scan-logs.ts test-artifacts/logs
 *
 * Exit 0: clean; 1: something found (each finding names file, line and kind, with the secret
 * itself masked so the CI log does not leak it either); 2: usage or no log files with --min-files.
 * Canaries: one per line in `<dir>/canaries.txt` and in HOLDFAST_LOG_CANARIES (comma-separated).
 */
import fs from 'node:fs';
import path from 'node:path';

export interface Finding {
  readonly file: string;
  readonly line: number;
  readonly kind: string;
  /** The line around the finding with the secret masked. */
  readonly excerpt: string;
}

interface Detector {
  readonly kind: string;
  readonly pattern: RegExp;
}

const REDACTED = /^\[redacted\]$|^\*+$|^$/i;

/** What a secret looks like in a log line. Each pattern's group 1 (or the whole match) is the secret. */
const DETECTORS: readonly Detector[] = [
  // <shard>.<128-bit id>.<256-bit secret>, base64url: session and remember-me cookie values.
  {
    kind: 'session or remember-me token',
    pattern: /\b\d{1,5}\.[A-Za-z0-9_-]{22}\.([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g,
  },
  // <128-bit id>.<256-bit secret> without a shard: a single-use account token (an emailed link's).
  {
    kind: 'account token (emailed link)',
    pattern: /(?<![A-Za-z0-9_.-])[A-Za-z0-9_-]{22}\.([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])/g,
  },
  // A link with a token in its query, whatever its shape.
  { kind: 'token in URL', pattern: /[?&]token=([^\s&"'#<>]{8,})/g },
  // A JSON field that should have been redacted: "password": "hunter2".
  {
    kind: 'secret field',
    pattern:
      /"(?:password|newPassword|currentPassword|passwordConfirm|secret|token|rememberToken|crumb|cookie|authorization|set-cookie)"\s*:\s*"((?:[^"\\]|\\.)*)"/gi,
  },
  // Raw header lines (a logged request or curl output).
  { kind: 'cookie header', pattern: /\b(?:set-)?cookie:\s*([^\s;"]+=[^\s;"]+)/gi },
  { kind: 'authorization header', pattern: /\bauthorization:\s*((?:bearer|basic)\s+\S+)/gi },
  { kind: 'bearer credential', pattern: /\bBearer\s+([A-Za-z0-9._~+/-]{16,}=*)/g },
  // Holdfast's cookie names with a value: holdfast=…, __Host-holdfast_remember=…
  { kind: 'holdfast cookie', pattern: /\b(?:__Host-)?holdfast(?:_remember)?=([^\s;",]{8,})/g },
  // A password in a URL: redis://user:pw@host.
  { kind: 'password in URL', pattern: /[a-z][a-z0-9+.-]*:\/\/[^\s:/@]*:([^\s@/]+)@/gi },
];

function mask(line: string, start: number, end: number): string {
  const from = Math.max(0, start - 40);
  const to = Math.min(line.length, end + 40);
  return `${line.slice(from, start)}<${end - start} chars masked>${line.slice(end, to)}`;
}

/** Findings in one text. `canaries` are exact strings that must never appear (test passwords). */
export function scanText(file: string, text: string, canaries: readonly string[] = []): Finding[] {
  const findings: Finding[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    for (const { kind, pattern } of DETECTORS) {
      pattern.lastIndex = 0;
      for (const m of line.matchAll(pattern)) {
        const secret = m[1] ?? m[0];
        if (REDACTED.test(secret)) continue;
        const start = (m.index ?? 0) + m[0].lastIndexOf(secret);
        findings.push({
          file,
          line: i + 1,
          kind,
          excerpt: mask(line, start, start + secret.length),
        });
      }
    }
    for (const canary of canaries) {
      let at = line.indexOf(canary);
      while (at !== -1) {
        findings.push({
          file,
          line: i + 1,
          kind: 'canary (a test password or secret)',
          excerpt: mask(line, at, at + canary.length),
        });
        at = line.indexOf(canary, at + canary.length);
      }
    }
  });
  return findings;
}

function logFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    if (e.isDirectory()) return logFiles(full);
    return /\.(log|jsonl|ndjson|txt)$/.test(e.name) && e.name !== 'canaries.txt' ? [full] : [];
  });
}

export function readCanaries(dir: string, env: NodeJS.ProcessEnv = process.env): string[] {
  const file = path.join(dir, 'canaries.txt');
  const fromFile = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  const fromEnv = (env.HOLDFAST_LOG_CANARIES ?? '').split(',');
  // Very short canaries would match by chance; a test password is longer than this.
  return [...new Set([...fromFile, ...fromEnv].map((c) => c.trim()).filter((c) => c.length >= 8))];
}

export interface ScanResult {
  readonly files: number;
  readonly lines: number;
  readonly findings: Finding[];
}

export function scanDirectory(dir: string, canaries = readCanaries(dir)): ScanResult {
  let lines = 0;
  const findings: Finding[] = [];
  const files = logFiles(dir);
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    lines += text.split('\n').length;
    findings.push(...scanText(path.relative(dir, file), text, canaries));
  }
  return { files: files.length, lines, findings };
}

export function main(argv: string[]): number {
  const args = [...argv];
  let minFiles = 0;
  const at = args.indexOf('--min-files');
  if (at !== -1) {
    minFiles = Number(args[at + 1]);
    args.splice(at, 2);
  }
  const dir = args[0];
  if (!dir || !Number.isInteger(minFiles)) {
    process.stderr.write('usage: scan-logs.ts DIR [--min-files N]\n');
    return 2;
  }
  const result = scanDirectory(dir);
  for (const f of result.findings) {
    process.stderr.write(`${f.file}:${f.line}: ${f.kind}: ${f.excerpt}\n`);
  }
  process.stdout.write(
    `scan-logs: ${result.files} files, ${result.lines} lines, ${result.findings.length} findings\n`,
  );
  if (result.files < minFiles) {
    process.stderr.write(`scan-logs: expected at least ${minFiles} log files in ${dir}\n`);
    return 2;
  }
  return result.findings.length ? 1 : 0;
}

if (require.main === module) process.exit(main(process.argv.slice(2)));
