import { olderClients } from '../../../../src/store/redis/format-upgrade';
import { connectionName } from '../../../../src/store/redis/connection';
import { layoutFormat, sessionFormatOf, READABLE_LAYOUTS } from '../../../../src/store/redis/meta';

const line = (addr: string, name: string) =>
  `id=7 addr=${addr} laddr=127.0.0.1:6379 fd=9 name=${name} age=3 idle=0 flags=N db=0 cmd=client|list`;

test("connections of a build before format 4 are told apart by their names' mark", () => {
  const list = [
    line('10.0.0.1:5001', 'holdfast-reads'),
    line('10.0.0.1:5002', 'holdfast-writes'),
    line('10.0.0.2:5003', 'holdfast-replica-reads'),
    line('10.0.0.3:5004', connectionName('holdfast', 'reads')),
    line('10.0.0.3:5005', connectionName('shop-node', 'writes')),
    line('10.0.0.3:5006', connectionName('holdfast', 'replica-reads')),
    line('10.0.0.4:5007', 'holdfast-reads-f3'),
    line('10.0.0.5:5008', 'holdfast-reads-nearcache'),
    line('10.0.0.5:5009', 'holdfast-balance'),
    line('10.0.0.6:5010', ''),
  ].join('\n');
  expect(olderClients(list, 4)).toEqual([
    { addr: '10.0.0.1:5001', name: 'holdfast-reads' },
    { addr: '10.0.0.1:5002', name: 'holdfast-writes' },
    { addr: '10.0.0.2:5003', name: 'holdfast-replica-reads' },
    { addr: '10.0.0.4:5007', name: 'holdfast-reads-f3' },
  ]);
  expect(connectionName('holdfast', 'reads')).toBe('holdfast-reads-f4');
});

test('meta names each readable format, and nothing else', () => {
  expect(READABLE_LAYOUTS).toEqual(['session-3 series-2', 'session-4 series-2']);
  expect(sessionFormatOf(layoutFormat(3))).toBe(3);
  expect(sessionFormatOf('session-4 series-2')).toBe(4);
  for (const other of ['session-2 series-1', 'session-5 series-2', 'session-4 series-3', '', null])
    expect(sessionFormatOf(other)).toBeNull();
});
