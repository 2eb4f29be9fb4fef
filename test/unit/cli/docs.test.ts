import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { buildProgram, COMMON_OPTIONS } from '../../../src/cli/program';
import { INTERRUPTED } from '../../../src/cli/output';
import { ExitCodes } from '../../../src/errors';

/**
 * docs/cli.md and the README's command list against the parser itself: every command, its usage
 * line and options, and the exit codes. Adding an option without documenting it fails here.
 */
const ROOT = path.join(__dirname, '../../..');
const CLI_DOC = readFileSync(path.join(ROOT, 'docs/cli.md'), 'utf8');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const ERRORS_DOC = readFileSync(path.join(ROOT, 'docs/errors.md'), 'utf8');

const program = buildProgram(
  {
    env: {},
    out: () => {},
    err: () => {},
    stdin: process.stdin,
    prompt: () => {},
  },
  () => {},
);

/** Every command that runs something, with its words after `holdfast`. */
function leaves(cmd: Command, prefix: string[] = []): { name: string; cmd: Command }[] {
  return cmd.commands.flatMap((c) => {
    const words = [...prefix, c.name()];
    return c.commands.length ? leaves(c, words) : [{ name: words.join(' '), cmd: c }];
  });
}
const LEAVES = leaves(program);

/** The text of the `### holdfast <name>` section of docs/cli.md. */
function section(name: string): string {
  const at = CLI_DOC.indexOf(`\n### holdfast ${name}\n`);
  if (at < 0) return '';
  return CLI_DOC.slice(at + 1).split(/\n##+ /)[0];
}

test('the parser defines the sixteen commands of the contract', () => {
  expect(LEAVES.map((l) => l.name)).toEqual([
    'start',
    'preflight',
    'config check',
    'sessions count',
    'sessions list',
    'sessions revoke',
    'sessions revoke-all',
    'store balance',
    'store reshard',
    'store upgrade-format',
    'users create',
    'users disable',
    'users enable',
    'users delete',
    'users roles',
    'users show',
  ]);
});

test('docs/cli.md has one section per command, in the parser order, and no other', () => {
  const documented = [...CLI_DOC.matchAll(/^### holdfast (.+)$/gm)].map((m) => m[1]);
  expect(documented).toEqual(LEAVES.map((l) => l.name));
});

test("each section's usage line is the parser's, and its option table lists exactly the parser's options", () => {
  for (const { name, cmd } of LEAVES) {
    const text = section(name);
    expect({ name, usage: /^`(holdfast [^`]+)`$/m.exec(text)?.[1] }).toEqual({
      name,
      usage: `holdfast ${name} ${cmd.usage()}`,
    });
    const rows = [...text.matchAll(/^\| `([^`]+)` \|/gm)].map((m) => m[1]);
    expect({ name, rows }).toEqual({ name, rows: cmd.options.map((o) => o.flags) });
    // Required options say so.
    for (const o of cmd.options.filter((o) => o.mandatory)) {
      expect(text).toMatch(new RegExp(`\\| \`${o.flags}\` \\|[^\\n]*\\(required\\)`));
    }
  }
});

test("the README's command list names every command once with exactly its own options", () => {
  const block = /## Command line\n\n```\n([\s\S]*?)```/.exec(README)?.[1] ?? '';
  const lines = block.split('\n').filter((l) => l.startsWith('holdfast '));
  const common = COMMON_OPTIONS.map((o) => o.flags);
  const listed = lines.map((line) => {
    const leaf = LEAVES.filter((l) => line.startsWith(`holdfast ${l.name}`)).sort(
      (a, b) => b.name.length - a.name.length,
    )[0];
    const options = [...line.matchAll(/--[a-z-]+(?: <[a-z]+>)?/g)].map((m) => m[0]);
    return { name: leaf?.name, options };
  });
  expect(listed).toEqual(
    LEAVES.map(({ name, cmd }) => ({
      name,
      options: cmd.options.map((o) => o.flags).filter((f) => !common.includes(f)),
    })),
  );
  for (const flags of common) expect(README).toContain(`\`${flags}\``);
});

test('the top-level options (--help, --version) are documented', () => {
  expect(program.options.map((o) => o.flags)).toEqual(['-V, --version']);
  expect(program.helpInformation()).toContain('-h, --help');
  expect(CLI_DOC).toContain('holdfast -V | --version');
  expect(CLI_DOC).toContain('holdfast -h | --help');
});

test('docs/cli.md and docs/errors.md list the same exit codes, and exactly the ones the CLI uses', () => {
  const codes = [...new Set([...Object.values(ExitCodes), 1, INTERRUPTED])].sort((a, b) => a - b);
  const table = (doc: string) => [...doc.matchAll(/^\| (\d+) \|/gm)].map((m) => Number(m[1]));
  expect(table(CLI_DOC.slice(CLI_DOC.indexOf('## Exit codes')))).toEqual(codes);
  expect(table(ERRORS_DOC.slice(0, ERRORS_DOC.indexOf('## Error codes')))).toEqual(codes);
});
