import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { cpuBudget, loadSettings, readCgroupQuota, workerSizing } from '../../../src/config';

/**
 * `workers: auto` read from fixture cgroup trees: each test lays out the files a container would
 * see (proc/self/cgroup, proc/self/mountinfo, sys/fs/cgroup/...) under a temporary root.
 */

let root: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'hf-cgroup-'));
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

function lay(files: Record<string, string>): void {
  for (const [file, text] of Object.entries(files)) {
    mkdirSync(path.join(root, path.dirname(file)), { recursive: true });
    writeFileSync(path.join(root, file), text);
  }
}

const MOUNTINFO_V2 =
  '30 23 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate\n';
const MOUNTINFO_V1 = [
  '35 25 0:30 / /sys/fs/cgroup/cpu,cpuacct rw,nosuid - cgroup cgroup rw,cpu,cpuacct',
  '36 25 0:31 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '',
].join('\n');

const host64 = { hostCores: 64, affinityCores: 64 };

describe('cgroup v2', () => {
  it('a pod limited to 1 CPU on a 64-core node gets 1 worker', () => {
    lay({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': '100000 100000\n',
    });
    expect(cpuBudget({ root, ...host64 })).toEqual({
      cpus: 1,
      reason: 'cgroup v2 cpu.max 100000 100000 at /sys/fs/cgroup (1 CPU)',
    });
  });

  it('"max" is no quota: the cores decide', () => {
    lay({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
    });
    expect(readCgroupQuota(root)).toBeUndefined();
    expect(cpuBudget({ root, hostCores: 8, affinityCores: 8 })).toEqual({
      cpus: 8,
      reason: '8 host cores; no cgroup CPU quota',
    });
  });

  it('a fractional quota rounds up: 1.5 CPUs give 2 workers, 0.25 gives 1', () => {
    lay({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': '150000 100000\n',
    });
    expect(cpuBudget({ root, ...host64 })).toEqual({
      cpus: 2,
      reason: 'cgroup v2 cpu.max 150000 100000 at /sys/fs/cgroup (1.5 CPUs, rounded up)',
    });
    writeFileSync(path.join(root, 'sys/fs/cgroup/cpu.max'), '25000 100000\n');
    expect(cpuBudget({ root, ...host64 }).cpus).toBe(1);
  });

  it("follows /proc/self/cgroup to the process's own cgroup, and a parent's lower quota binds", () => {
    const pod = 'sys/fs/cgroup/kubepods.slice/pod1';
    lay({
      'proc/self/cgroup': '0::/kubepods.slice/pod1/ctr\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': 'max 100000\n',
      [`${pod}/cpu.max`]: '300000 100000\n',
      [`${pod}/ctr/cpu.max`]: '400000 100000\n',
      // A sibling with a lower quota is not on the path and must not count.
      'sys/fs/cgroup/kubepods.slice/other/cpu.max': '100000 100000\n',
    });
    expect(cpuBudget({ root, ...host64 })).toEqual({
      cpus: 3,
      reason: `cgroup v2 cpu.max 300000 100000 at /${pod} (3 CPUs)`,
    });
  });

  it('a container whose cgroup is mounted as its root (mountinfo root = its own path)', () => {
    lay({
      'proc/self/cgroup': '0::/kubepods/pod1/ctr\n',
      'proc/self/mountinfo':
        '30 23 0:26 /kubepods/pod1/ctr /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw\n',
      'sys/fs/cgroup/cpu.max': '200000 100000\n',
    });
    expect(cpuBudget({ root, ...host64 }).cpus).toBe(2);
  });

  it('never more than the host cores, nor than the affinity allows', () => {
    lay({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': '800000 100000\n',
    });
    expect(cpuBudget({ root, hostCores: 2, affinityCores: 2 })).toEqual({
      cpus: 2,
      reason: '2 host cores; cgroup v2 cpu.max 800000 100000 at /sys/fs/cgroup (8 CPUs)',
    });
    expect(cpuBudget({ root, hostCores: 16, affinityCores: 3 })).toEqual({
      cpus: 3,
      reason:
        'CPU affinity allows 3 of 16 cores; cgroup v2 cpu.max 800000 100000 at /sys/fs/cgroup (8 CPUs)',
    });
  });
});

describe('cgroup v1', () => {
  it('cfs_quota_us / cfs_period_us in the cpu hierarchy, on the cgroup path', () => {
    lay({
      'proc/self/cgroup': '4:memory:/docker/abc\n3:cpu,cpuacct:/docker/abc\n',
      'proc/self/mountinfo': MOUNTINFO_V1,
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n',
      'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n',
    });
    expect(cpuBudget({ root, ...host64 })).toEqual({
      cpus: 1,
      reason:
        'cgroup v1 cpu.cfs_quota_us 50000 / cpu.cfs_period_us 100000 at /sys/fs/cgroup/cpu,cpuacct/docker/abc (0.5 CPUs, rounded up)',
    });
  });

  it('a quota of -1 is no quota', () => {
    lay({
      'proc/self/cgroup': '3:cpu,cpuacct:/\n',
      'proc/self/mountinfo': MOUNTINFO_V1,
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '-1\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    });
    expect(readCgroupQuota(root)).toBeUndefined();
    expect(cpuBudget({ root, hostCores: 4, affinityCores: 4 }).cpus).toBe(4);
  });

  it('without mountinfo, the usual mount point is used (/sys/fs/cgroup/cpu)', () => {
    lay({
      'proc/self/cgroup': '2:cpu:/\n',
      'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '200000\n',
      'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000\n',
    });
    expect(cpuBudget({ root, ...host64 }).cpus).toBe(2);
  });
});

describe('missing or unreadable files', () => {
  it('no /proc/self/cgroup at all (not Linux, or hidden): the cores and affinity decide', () => {
    expect(readCgroupQuota(root)).toBeUndefined();
    expect(cpuBudget({ root, hostCores: 6, affinityCores: 6 })).toEqual({
      cpus: 6,
      reason: '6 host cores; no cgroup CPU quota',
    });
  });

  it('a cgroup named but no cpu.max / quota files, or garbage in them: no quota, no error', () => {
    lay({
      'proc/self/cgroup': '0::/a/b\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/a/cpu.max': 'nonsense\n',
    });
    expect(readCgroupQuota(root)).toBeUndefined();
    expect(cpuBudget({ root, hostCores: 2, affinityCores: 1 })).toEqual({
      cpus: 1,
      reason: 'CPU affinity allows 1 of 2 cores; no cgroup CPU quota',
    });
  });
});

describe('loadSettings', () => {
  it('workers: auto takes the budget and keeps why; a number says where it was set', () => {
    lay({
      'proc/self/cgroup': '0::/\n',
      'proc/self/mountinfo': MOUNTINFO_V2,
      'sys/fs/cgroup/cpu.max': '200000 100000\n',
    });
    const auto = loadSettings({
      env: { HOLDFAST_ENV: 'development', HOLDFAST_WORKERS: 'auto' },
      cpu: { root, ...host64 },
    });
    expect(auto.workers).toBe(2);
    expect(workerSizing(auto).reason).toBe(
      '2 workers: cgroup v2 cpu.max 200000 100000 at /sys/fs/cgroup (2 CPUs)',
    );
    const set = loadSettings({ env: { HOLDFAST_ENV: 'development', HOLDFAST_WORKERS: '3' } });
    expect(workerSizing(set)).toEqual({
      workers: 3,
      reason: '3 workers: workers 3 (HOLDFAST_WORKERS)',
    });
    const dflt = loadSettings({ env: { HOLDFAST_ENV: 'development' } });
    expect(workerSizing(dflt).reason).toBe('1 worker: workers 1 (default for env development)');
  });
});
