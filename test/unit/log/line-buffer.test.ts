import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { LineBuffer } from '../../../src/log/line-buffer';

/**
 * The worker's buffered log destination (ADR 255): lines reach the file only when the buffer is
 * full or flushed, whole and in order, multi-byte characters included; a closed pipe ends logging
 * instead of throwing into a request.
 */

let dir: string;
let file: string;
let fd: number;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-line-buffer-'));
  file = path.join(dir, 'out.log');
  fd = fs.openSync(file, 'w');
});

afterEach(() => {
  fs.closeSync(fd);
  fs.rmSync(dir, { recursive: true, force: true });
});

const written = (): string => fs.readFileSync(file, 'utf8');

describe('LineBuffer', () => {
  it('holds lines until flushed, then writes them all in order', () => {
    const out = new LineBuffer(fd, 1024);
    out.write('one\n');
    out.write('two é ✓\n');
    expect(written()).toBe('');
    expect(out.pending).toBe(Buffer.byteLength('one\ntwo é ✓\n'));
    out.flush();
    expect(written()).toBe('one\ntwo é ✓\n');
    expect(out.pending).toBe(0);
    out.flushSync(); // nothing left: writes nothing more
    expect(written()).toBe('one\ntwo é ✓\n');
  });

  it('writes the buffer when the next line might not fit, never cutting a line', () => {
    const out = new LineBuffer(fd, 64);
    const line = (i: number): string => `line ${String(i).padStart(3, '0')} ✓\n`; // 13 units
    for (let i = 0; i < 10; i++) out.write(line(i));
    // Room is checked at 3 bytes per unit (39 bytes a line): each write past the first flushes.
    const seen = written();
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.endsWith('\n')).toBe(true);
    out.flushSync();
    expect(written()).toBe(Array.from({ length: 10 }, (_, i) => line(i)).join(''));
  });

  it('a line longer than the buffer is written whole, after what was buffered', () => {
    const out = new LineBuffer(fd, 32);
    out.write('a\n');
    const long = `${'x'.repeat(200)}\n`;
    out.write(long);
    out.write('b\n');
    out.flushSync();
    expect(written()).toBe(`a\n${long}b\n`);
  });

  it('a full non-blocking pipe (EAGAIN) makes the write wait: every line arrives', async () => {
    const fifo = path.join(dir, 'slow');
    execFileSync('mkfifo', [fifo]);
    // A reader in another process, so this thread may block while the pipe is full; it opens its
    // end at once but reads only after a pause, so the pipe (64 KB) fills up and writes see EAGAIN.
    const reader = spawn('sh', ['-c', `exec 3<'${fifo}'; sleep 0.5; cat <&3 > '${file}.copy'`]);
    const write = await new Promise<number>((resolve) => {
      const tryOpen = (): void => {
        try {
          resolve(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
        } catch {
          setTimeout(tryOpen, 10); // ENXIO until cat has opened its end
        }
      };
      tryOpen();
    });
    const out = new LineBuffer(write, 16_384);
    const lines = Array.from({ length: 5000 }, (_, i) => `{"n":${i},"pad":"${'p'.repeat(80)}"}\n`);
    for (const line of lines) out.write(line); // ~500 KB: far more than a pipe holds (64 KB)
    out.flushSync();
    fs.closeSync(write);
    await new Promise((resolve) => reader.once('exit', resolve));
    expect(fs.readFileSync(`${file}.copy`, 'utf8')).toBe(lines.join(''));
  });

  it('a pipe nobody reads any more (EPIPE) ends logging without throwing', () => {
    const [read, write] = pipe();
    fs.closeSync(read);
    const out = new LineBuffer(write, 16);
    expect(() => {
      out.write('lost 1\n');
      out.write('lost 2 and more\n');
      out.flushSync();
    }).not.toThrow();
    expect(out.write('after\n')).toBe(true);
    expect(out.pending).toBe(0);
    fs.closeSync(write);
  });
});

/** A real pipe's two ends (read, write): a FIFO opened both ways. */
function pipe(): [number, number] {
  const fifo = path.join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const read = fs.openSync(fifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
  const write = fs.openSync(fifo, fs.constants.O_WRONLY);
  return [read, write];
}
