import { formatDuration, parseDuration } from '../../../src/config';

describe('durations', () => {
  it.each([
    ['30m', 1_800_000],
    ['7d', 604_800_000],
    ['100ms', 100],
    ['1.5h', 5_400_000],
    ['2500', 2500],
    [0, 0],
  ])('parses %p', (input, ms) => expect(parseDuration(input)).toBe(ms));

  it.each(['30 minutes', '-1s', '', 'm', -5, null, {}])('rejects %p', (input) =>
    expect(parseDuration(input)).toBeUndefined(),
  );

  it('formats milliseconds the way settings are written', () => {
    expect([formatDuration(604_800_000), formatDuration(90_000), formatDuration(1500)]).toEqual([
      '7d',
      '90s',
      '1500ms',
    ]);
  });
});
