import {
  isFailing,
  parseClusterNodes,
  parseConfigReply,
  parseInfo,
  parseReplicaLines,
  parseSentinelList,
  slotCount,
  versionAtLeast,
} from '../../../src/preflight/redis-info';

const INFO = [
  '# Server',
  'redis_version:7.0.15',
  'redis_mode:standalone',
  '',
  '# Replication',
  'role:master',
  'connected_slaves:2',
  'slave0:ip=10.0.0.2,port=6380,state=online,offset=42,lag=0',
  'slave1:ip=10.0.0.3,port=6381,state=wait_bgsave,offset=0,lag=0',
  'master_failover_state:no-failover',
].join('\r\n');

// A real CLUSTER NODES answer (3 masters, one replica, one failed node, a migrating slot marker).
const NODES = [
  'e7d1eecce10fd6bb5eb35b9f99a514335d9ba9ca 127.0.0.1:30001@40001 myself,master - 0 0 1 connected 0-5460',
  '67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 127.0.0.1:30002@40002 master - 0 1426238316232 2 connected 5461-10922 [10923->-292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f]',
  '292f8b365bb7edb5e285caf0b7e6ddc7265d2f4f 127.0.0.1:30003@40003 master,fail - 1426238316232 0 3 disconnected 10923-16383',
  '6ec23923021cf3ffec47632106199cb7f496ce01 127.0.0.1:30005@40005,redis-5.example slave 67ed2db8d677e59ec4a4cefb06858cf2a1a89fa1 0 1426238316232 5 connected',
  '',
].join('\n');

test('parseInfo flattens sections and ignores headers and blank lines', () => {
  const info = parseInfo(INFO);
  expect(info.redis_version).toBe('7.0.15');
  expect(info.role).toBe('master');
  expect(info['# Server']).toBeUndefined();
  expect(Object.keys(info)).not.toContain('');
});

test('parseReplicaLines reads every slaveN line', () => {
  const replicas = parseReplicaLines(parseInfo(INFO));
  expect(replicas).toEqual([
    { ip: '10.0.0.2', port: '6380', state: 'online', offset: '42', lag: '0' },
    { ip: '10.0.0.3', port: '6381', state: 'wait_bgsave', offset: '0', lag: '0' },
  ]);
});

test('parseClusterNodes reads addresses, roles, slots and failure flags', () => {
  const nodes = parseClusterNodes(NODES);
  expect(nodes).toHaveLength(4);
  const [a, b, c, d] = nodes;
  expect(a).toMatchObject({ host: '127.0.0.1', port: 30001, master: true, slots: [[0, 5460]] });
  expect(b.slots).toEqual([[5461, 10922]]);
  expect(isFailing(c)).toBe(true);
  expect(isFailing(a)).toBe(false);
  expect(d).toMatchObject({ port: 30005, master: false, masterId: b.id, linkState: 'connected' });
  expect(nodes.reduce((n, x) => n + slotCount(x), 0)).toBe(16384);
});

test('versionAtLeast compares numerically, part by part', () => {
  expect(versionAtLeast('7.0.15', '6.2.0')).toBe(true);
  expect(versionAtLeast('6.2.0', '6.2.0')).toBe(true);
  expect(versionAtLeast('6.0.20', '6.2.0')).toBe(false);
  expect(versionAtLeast('6.10.0', '6.2.0')).toBe(true);
  expect(versionAtLeast('7', '6.2.0')).toBe(true);
  expect(versionAtLeast('0', '6.2.0')).toBe(false);
});

test('parseConfigReply reads RESP2 lists and RESP3 maps', () => {
  expect(parseConfigReply(['appendonly', 'yes', 'save', ''])).toEqual({
    appendonly: 'yes',
    save: '',
  });
  expect(parseConfigReply({ maxmemory: 0 })).toEqual({ maxmemory: '0' });
  expect(parseConfigReply(null)).toEqual({});
});

test('parseSentinelList reads SENTINEL REPLICAS entries', () => {
  expect(parseSentinelList([['ip', '127.0.0.1', 'port', '6380', 'flags', 'slave']])).toEqual([
    { ip: '127.0.0.1', port: '6380', flags: 'slave' },
  ]);
  expect(parseSentinelList('nonsense')).toEqual([]);
});
