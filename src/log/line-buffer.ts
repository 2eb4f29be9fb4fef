import fs from 'node:fs';

/** Bytes a UTF-16 code unit can take in UTF-8, at most: the room a line is checked against. */
const MAX_BYTES_PER_UNIT = 3;

/** How long a write waits when a non-blocking pipe is full before it tries again. */
const EAGAIN_WAIT_MS = 1;

/**
 * A worker's JSON log destination (ADR 255): lines are copied into one preallocated buffer and
 * written with one write(2) when it is full, when `flush()` runs (a timer, every second), or at
 * exit (`flushSync()`). sonic-boom, pino's own destination, appends each line to a growing
 * string and measures that string's byte length on every write; copying into a Buffer allocates
 * nothing per line. The write is made on this thread, like pino.destination({ sync: true }).
 *
 * A full non-blocking pipe (EAGAIN) makes the write wait and retry, so no line is dropped (as a
 * blocking stdout would); a closed pipe (EPIPE) ends logging, as pino does.
 */
export class LineBuffer {
  private readonly buffer: Buffer;
  private used = 0;
  private closed = false;

  constructor(
    private readonly fd: number,
    size: number,
  ) {
    this.buffer = Buffer.allocUnsafe(size);
  }

  /** Bytes waiting to be written. */
  get pending(): number {
    return this.used;
  }

  write(line: string): boolean {
    if (this.closed) return true;
    // Room checked against the worst case, so utf8Write never cuts a line.
    const room = line.length * MAX_BYTES_PER_UNIT;
    if (this.used + room > this.buffer.length) {
      this.flushSync();
      if (room > this.buffer.length) {
        this.writeAll(Buffer.from(line, 'utf8'), Buffer.byteLength(line, 'utf8'));
        return true;
      }
    }
    this.used += this.buffer.write(line, this.used, 'utf8');
    return true;
  }

  /** pino's logger.flush() and the periodic timer: writes what is buffered. */
  flush(): void {
    this.flushSync();
  }

  /** Writes what is buffered, now (before process.exit). */
  flushSync(): void {
    if (this.used === 0 || this.closed) return;
    const length = this.used;
    this.used = 0;
    this.writeAll(this.buffer, length);
  }

  private writeAll(data: Buffer, length: number): void {
    let offset = 0;
    while (offset < length && !this.closed) {
      try {
        offset += fs.writeSync(this.fd, data, offset, length - offset);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, EAGAIN_WAIT_MS);
        } else if (code === 'EPIPE') {
          // Nobody reads stdout any more: nothing more can be written.
          this.closed = true;
        } else {
          throw err;
        }
      }
    }
  }
}
