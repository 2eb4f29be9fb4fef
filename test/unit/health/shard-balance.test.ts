import { Writable } from 'node:stream';
import { ShardBalanceAlarm } from '../../../src/health/shard-balance';
import { createLogger } from '../../../src/log/logger';

/** A real pino logger writing JSON lines into an array. */
function capture(): { lines: Array<Record<string, unknown>>; alarm: ShardBalanceAlarm } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { lines, alarm: new ShardBalanceAlarm(createLogger('info', sink)) };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));
const details = (shardRatio?: number) => ({
  clusterOk: true,
  shardRatio,
  busiestMaster: '10.0.0.1:6379',
});

describe('shard balance warning of the store health loop', () => {
  it('warns once when the busiest master passes 1.2× the mean, and says when it ends', async () => {
    const { lines, alarm } = capture();
    alarm.observe(details(1.1));
    alarm.observe(details(1.2));
    await flush();
    expect(lines).toEqual([]);
    alarm.observe(details(1.31));
    alarm.observe(details(1.35));
    alarm.observe(details(1.31));
    await flush();
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ level: 40, ratio: 1.31, busiest: '10.0.0.1:6379' });
    expect(String(lines[0].msg)).toMatch(
      /more than 1\.2× the mean; see holdfast store balance --plan/,
    );
    alarm.observe(details(1.02));
    await flush();
    expect(lines).toHaveLength(2);
    expect(lines[1]).toMatchObject({ level: 30, msg: 'store shards even again', ratio: 1.02 });
  });

  it('says nothing without a ratio (not a cluster, or no details this time)', async () => {
    const { lines, alarm } = capture();
    alarm.observe(undefined);
    alarm.observe(details(undefined));
    await flush();
    expect(lines).toEqual([]);
  });
});
