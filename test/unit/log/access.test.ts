import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSettings } from '../../../src/config';
import { AccessLog, AccessLine, AccessLogLevel } from '../../../src/log/access';
import { LineBuffer } from '../../../src/log/line-buffer';
import { createLogger } from '../../../src/log/logger';

/**
 * log.access: which requests get a line, at which level; 5xx always. The lines are real pino
 * output (a logger built as the server builds it), read back as JSON.
 */

function capture(level: string): {
  lines: () => Array<Record<string, unknown>>;
  logger: ReturnType<typeof createLogger>;
} {
  const out: string[] = [];
  const logger = createLogger(level, { write: (s: string) => void out.push(s) });
  return { lines: () => out.map((s) => JSON.parse(s) as Record<string, unknown>), logger };
}

const line = (status: number | undefined): AccessLine => ({
  reqId: `r${status}`,
  method: 'get',
  path: '/auth/me',
  status,
  ms: 3,
});

/** Writes a 200, a 404, an aborted request and a 503 through AccessLog as the server does. */
function writeAll(access: AccessLog): void {
  for (const status of [200, 404, undefined, 503]) {
    if (access.wants(status)) access.write(line(status));
  }
}

describe('AccessLog', () => {
  it.each<[AccessLogLevel, string, Array<[string | undefined, number]>]>([
    // [log.access, log.level, expected [reqId, pino level] in order]
    [
      'info',
      'info',
      [
        ['r200', 30],
        ['r404', 30],
        ['rundefined', 30],
        ['r503', 50],
      ],
    ],
    ['debug', 'info', [['r503', 50]]],
    [
      'debug',
      'debug',
      [
        ['r200', 20],
        ['r404', 20],
        ['rundefined', 20],
        ['r503', 50],
      ],
    ],
    ['off', 'info', [['r503', 50]]],
    ['off', 'trace', [['r503', 50]]],
    ['info', 'fatal', []],
  ])('log.access %s with log.level %s', (setting, level, expected) => {
    const { lines, logger } = capture(level);
    writeAll(new AccessLog(logger, setting));
    expect(lines().map((l) => [l.reqId, l.level])).toEqual(expected);
  });

  it('a line holds exactly the access fields, the message and the logger bindings', () => {
    const { lines, logger } = capture('info');
    writeAll(new AccessLog(logger.child({ worker: 7 }), 'info'));
    const [first] = lines();
    expect(Object.keys(first).sort()).toEqual(
      ['level', 'time', 'pid', 'worker', 'reqId', 'method', 'path', 'status', 'ms', 'msg'].sort(),
    );
    expect(first).toMatchObject({
      worker: 7,
      path: '/auth/me',
      status: 200,
      ms: 3,
      msg: 'request',
    });
  });

  it('wants() says no when nothing would be written, so the server builds no line', () => {
    const { logger } = capture('info');
    const off = new AccessLog(logger, 'off');
    expect([off.wants(200), off.wants(undefined), off.wants(499), off.wants(500)]).toEqual([
      false,
      false,
      false,
      true,
    ]);
    // An expected 5xx (a readiness probe's 503) follows log.access like any status.
    expect([off.wants(503, true), new AccessLog(logger, 'info').wants(503, true)]).toEqual([
      false,
      true,
    ]);
    const silent = new AccessLog(capture('silent').logger, 'info');
    expect([silent.wants(200), silent.wants(500)]).toEqual([false, false]);
  });

  it('the process logger keeps redacting: only the access child goes without', () => {
    const { lines, logger } = capture('info');
    new AccessLog(logger, 'info').write(line(200));
    logger.info({ password: 'hunter2-not-logged' }, 'other');
    expect(lines()[1]).toMatchObject({ msg: 'other', password: '[redacted]' });
  });
});

describe("AccessLog on a worker's buffered stdout (lines built without pino, ADR 255)", () => {
  /** The lines AccessLog writes for `lines` through pino, and built directly into a LineBuffer. */
  function bothWays(
    level: string,
    setting: AccessLogLevel,
    lines: AccessLine[],
  ): { viaPino: string[]; direct: string[] } {
    const out: string[] = [];
    const viaPino = new AccessLog(
      createLogger(level, { write: (s: string) => void out.push(s) }).child({ worker: 3 }),
      setting,
    );
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-access-'));
    const file = path.join(dir, 'out.log');
    const fd = fs.openSync(file, 'w');
    try {
      const buffer = new LineBuffer(fd, 4096);
      const direct = new AccessLog(createLogger(level, buffer).child({ worker: 3 }), setting);
      expect([direct.buildsLines, viaPino.buildsLines]).toEqual([true, false]);
      for (const l of lines) {
        if (viaPino.wants(l.status)) viaPino.write(l);
        if (direct.wants(l.status)) direct.write(l);
      }
      buffer.flushSync();
      // The clock may tick between the two: compare everything but the time.
      const untimed = (s: string): string => s.replace(/"time":\d+/, '"time":0');
      return {
        viaPino: out.map(untimed),
        direct: fs
          .readFileSync(file, 'utf8')
          .split(/(?<=\n)/)
          .filter(Boolean)
          .map(untimed),
      };
    } finally {
      fs.closeSync(fd);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  const tricky: AccessLine[] = [
    line(200),
    {
      reqId: '1764640000000:host-1:42:abc:7',
      method: 'post',
      path: '/auth/login',
      status: 401,
      ms: 0,
    },
    { reqId: 'r-q', method: 'get', path: '/a "quoted" \\ path/é/✓', status: 404, ms: 12 },
    { reqId: 'r-ctl', method: 'get', path: '/tab\there', status: 302, ms: 1 },
    line(undefined),
    line(503),
    { reqId: 'r-nan', method: 'get', path: '/x', status: 500, ms: Number.NaN },
  ];

  it.each<[string, AccessLogLevel]>([
    ['info', 'info'],
    ['debug', 'debug'],
    ['info', 'off'],
  ])('log.level %s, log.access %s: byte for byte what pino writes', (level, setting) => {
    const { viaPino, direct } = bothWays(level, setting, tricky);
    expect(direct).toEqual(viaPino);
    expect(direct.length).toBe(setting === 'off' ? 2 : tricky.length);
  });

  it('the direct lines are JSON with the access fields, the bindings and the level', () => {
    const { direct } = bothWays('info', 'info', tricky);
    const parsed = direct.map((s) => JSON.parse(s) as Record<string, unknown>);
    expect(parsed[0]).toEqual({
      level: 30,
      time: 0,
      pid: process.pid,
      worker: 3,
      reqId: 'r200',
      method: 'get',
      path: '/auth/me',
      status: 200,
      ms: 3,
      msg: 'request',
    });
    expect(parsed[2].path).toBe('/a "quoted" \\ path/é/✓');
    expect(parsed[4]).not.toHaveProperty('status');
    expect([parsed[5].level, parsed[5].status]).toEqual([50, 503]);
    expect(parsed[6].ms).toBeNull();
  });
});

describe('the log.access setting', () => {
  const load = (extra: Record<string, string>) =>
    loadSettings({ env: { HOLDFAST_ENV: 'development', ...extra } });

  it('defaults to info', () => {
    expect(load({}).log.access).toBe('info');
  });

  it.each(['info', 'debug', 'off'])('HOLDFAST_LOG__ACCESS=%s', (value) => {
    expect(load({ HOLDFAST_LOG__ACCESS: value }).log.access).toBe(value);
  });

  it('refuses anything else, naming the setting', () => {
    expect(() => load({ HOLDFAST_LOG__ACCESS: 'sometimes' })).toThrow(/log\.access/);
  });
});
