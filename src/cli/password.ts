import type { ReadStream } from 'node:tty';
import { UserInputError } from '../users';

/** Where `users create` reads the password and, on a terminal, writes its prompts. */
export interface PasswordIo {
  readonly stdin: NodeJS.ReadableStream;
  /** Prompts, without a line break (stderr: stdout carries only the command's result). */
  readonly prompt: (text: string) => void;
}

/** Ctrl-C at the password prompt: the command stops and exits 130 (128 + SIGINT), nothing created. */
export class PromptInterruptedError extends Error {
  constructor() {
    super('interrupted at the password prompt');
    this.name = 'PromptInterruptedError';
  }
}

/**
 * The new password: on a terminal, asked twice with echo off (like passwd); otherwise the first
 * line of standard input, so scripts pipe it in. Never an argument: that shows in `ps` and history.
 */
export async function readNewPassword(io: PasswordIo, email: string): Promise<string> {
  const tty = io.stdin as Partial<ReadStream>;
  if (!tty.isTTY || typeof tty.setRawMode !== 'function') return readFirstLine(io.stdin);
  const [first, again] = await readHidden(tty as ReadStream, io.prompt, [
    `Password for ${email}: `,
    'Repeat the password: ',
  ]);
  if (first !== again) throw new UserInputError('password', 'the two entries differ');
  return first;
}

/**
 * One line per prompt, typed on a terminal in raw mode so that it echoes nothing; Enter ends a
 * line. Raw mode goes on before the first prompt and off after the last, so nothing typed early
 * or between the prompts is echoed either.
 */
export function readHidden(
  input: ReadStream,
  prompt: (text: string) => void,
  prompts: readonly string[],
): Promise<string[]> {
  input.setRawMode(true);
  prompt(prompts[0]);
  return new Promise((resolve, reject) => {
    const lines: string[] = [];
    let typed = '';
    let previous = '';
    const finish = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(false);
      input.pause();
      if (err) reject(err);
      else resolve(lines);
    };
    /** Ends the current line; false once every prompt has its line. */
    const endLine = (): boolean => {
      lines.push(typed);
      typed = '';
      prompt('\n');
      if (lines.length === prompts.length) return false;
      prompt(prompts[lines.length]);
      return true;
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        // CR LF (a pasted line) ends one line, not two.
        const afterCr = previous === '\r';
        previous = ch;
        if (ch === '\n' && afterCr) continue;
        if (ch === '\u0003') {
          prompt('\n');
          return finish(new PromptInterruptedError());
        }
        if (ch === '\r' || ch === '\n' || (ch === '\u0004' && typed === '')) {
          if (!endLine()) return finish();
        } else if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    input.setEncoding('utf8');
    input.on('data', onData);
    input.resume();
  });
}

/** The first line of standard input, without its line break. */
export async function readFirstLine(input: NodeJS.ReadableStream): Promise<string> {
  let text = '';
  for await (const chunk of input) {
    text += String(chunk);
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0];
}
