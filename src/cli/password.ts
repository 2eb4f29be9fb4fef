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
  const first = await readHidden(tty as ReadStream, io.prompt, `Password for ${email}: `);
  const again = await readHidden(tty as ReadStream, io.prompt, 'Repeat the password: ');
  if (first !== again) throw new UserInputError('password', 'the two entries differ');
  return first;
}

/** One line typed on a terminal in raw mode, so the terminal echoes nothing; Enter ends it. */
export function readHidden(
  input: ReadStream,
  prompt: (text: string) => void,
  text: string,
): Promise<string> {
  prompt(text);
  return new Promise((resolve, reject) => {
    let typed = '';
    const wasRaw = input.isRaw;
    const done = (err?: Error) => {
      input.off('data', onData);
      input.setRawMode(wasRaw);
      input.pause();
      prompt('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of String(chunk)) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new PromptInterruptedError());
        if (ch === '\u0004') {
          if (typed === '') return done();
          continue;
        }
        if (ch === '\u007f' || ch === '\b') typed = typed.slice(0, -1);
        else if (ch >= ' ') typed += ch;
      }
    };
    input.setRawMode(true);
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
