#!/usr/bin/env node
import { CommanderError } from 'commander';
import { ExitCodes } from '../errors';
import { reportError } from './output';
import { buildProgram, CliContext } from './program';

/** Where a command reads settings and input from and writes to; tests run commands in-process with their own. */
export interface CliIo {
  readonly env?: NodeJS.ProcessEnv;
  readonly out?: (line: string) => void;
  readonly err?: (line: string) => void;
  /** Standard input (users create reads the password from it); default process.stdin. */
  readonly stdin?: NodeJS.ReadableStream;
  /** Where a terminal prompt goes, without a line break; default stderr. */
  readonly prompt?: (text: string) => void;
}

/**
 * Runs a command and returns the process exit code: 0, 64 usage, 65 input rejected, 69 store
 * unreachable, 78 settings or a check failed (docs/cli.md lists them all). Never throws.
 */
export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const ctx: CliContext = {
    env: io.env,
    out: io.out ?? ((line: string) => process.stdout.write(`${line}\n`)),
    err: io.err ?? ((line: string) => process.stderr.write(`${line}\n`)),
    // Lazily: touching process.stdin opens it, and only users create reads it.
    get stdin() {
      return io.stdin ?? process.stdin;
    },
    prompt: io.prompt ?? ((text: string) => process.stderr.write(text)),
  };
  // `help [command...]` as `[command...] --help`: commander's help command takes one word only.
  const args = argv[0] === 'help' ? [...argv.slice(1), '--help'] : argv;
  let code: number = ExitCodes.OK;
  const program = buildProgram(ctx, (c) => (code = c));
  try {
    await program.parseAsync(args, { from: 'user' });
    return code;
  } catch (e) {
    // Help and --version end parsing with exit code 0; every other parse error is a usage error.
    if (e instanceof CommanderError) return e.exitCode === 0 ? ExitCodes.OK : ExitCodes.USAGE;
    return reportError(e, ctx.err, argv.includes('--json'));
  }
}

if (require.main === module) {
  // A reader that stops early (`holdfast config check | head -1`) closes the pipe: the rest of
  // the output has nowhere to go, which is no error of the command's. It runs to its own end
  // and exit code (a failed preflight still exits 78 under `set -o pipefail`).
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => process.exit(reportError(err)),
  );
}
