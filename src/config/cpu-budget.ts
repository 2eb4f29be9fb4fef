import { readFileSync, statSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import path from 'node:path';

/**
 * How many CPUs this process may really use, for `workers: auto`: the cgroup CPU quota (v2
 * `cpu.max`, v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us`, the lowest along the process's own
 * cgroup path), the CPU affinity, and the host's cores, whichever is smallest. Node's
 * os.availableParallelism() honours the affinity but not a cgroup v1 quota, so a pod limited to
 * one CPU on a 64-core node would otherwise fork 64 workers.
 *
 * Everything is read below `root` (default "/"), so tests point it at fixture trees.
 */

export interface CpuProbeOptions {
  /** Filesystem root that holds proc/self/cgroup, proc/self/mountinfo and sys/fs/cgroup. */
  readonly root?: string;
  /** The host's cores (default os.cpus().length). */
  readonly hostCores?: number;
  /** CPUs the affinity mask allows (default os.availableParallelism(), which reads it on Linux). */
  readonly affinityCores?: number;
}

export interface CgroupQuota {
  /** CPUs the quota allows; fractional (0.5 = half a CPU per period). */
  readonly cpus: number;
  /** What was read, for the operator: "cgroup v2 cpu.max 200000 100000 at /sys/fs/cgroup/x". */
  readonly detail: string;
}

export interface CpuBudget {
  /** Whole CPUs this process may use: at least 1. */
  readonly cpus: number;
  /** Why, in one line: "cgroup v2 cpu.max 200000 100000 at /sys/fs/cgroup (2 CPUs)". */
  readonly reason: string;
}

interface Mount {
  readonly version: 1 | 2;
  /** The cgroup path that is mounted (its "root" in mountinfo): "/" unless in a container. */
  readonly cgroupRoot: string;
  /** Where it is mounted, as seen by the process. */
  readonly mountPoint: string;
}

/** Whole CPUs for `workers: auto`, and why. Never throws: an unreadable file means no limit. */
export function cpuBudget(opts: CpuProbeOptions = {}): CpuBudget {
  const root = opts.root ?? '/';
  const host = Math.max(1, opts.hostCores ?? cpus().length);
  const affinity = Math.max(1, opts.affinityCores ?? availableParallelism());
  const quota = readCgroupQuota(root);
  // Round a fractional quota up: a worker's event loop is one thread, but each worker also needs
  // CPU off that thread (GC, libuv's pool for scrypt, TLS), which the remainder of the quota feeds;
  // rounding down would leave up to a whole CPU of quota idle (0.5 CPU would give 0 workers).
  const byQuota = quota ? Math.max(1, Math.ceil(quota.cpus - 1e-9)) : undefined;
  const cpusAllowed = Math.min(host, affinity, byQuota ?? Infinity);
  const quotaText = quota
    ? `${quota.detail} (${formatCpus(quota.cpus)}${Number.isInteger(quota.cpus) ? '' : ', rounded up'})`
    : 'no cgroup CPU quota';
  let reason: string;
  if (byQuota !== undefined && byQuota === cpusAllowed) reason = quotaText;
  else if (affinity === cpusAllowed && affinity < host)
    reason = `CPU affinity allows ${affinity} of ${host} cores; ${quotaText}`;
  else reason = `${host} host core${host === 1 ? '' : 's'}; ${quotaText}`;
  return { cpus: cpusAllowed, reason };
}

function formatCpus(n: number): string {
  const text = Number.isInteger(n) ? String(n) : n.toFixed(2).replace(/0$/, '');
  return `${text} CPU${n === 1 ? '' : 's'}`;
}

/** The lowest CPU quota on the process's cgroup path, v2 and v1 alike; undefined when none. */
export function readCgroupQuota(root = '/'): CgroupQuota | undefined {
  const membership = read(root, '/proc/self/cgroup');
  if (membership === undefined) return undefined;
  const mounts = readMounts(root);
  let best: CgroupQuota | undefined;
  for (const line of membership.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (!m) continue;
    const controllers = m[2].split(',');
    const version = m[1] === '0' && m[2] === '' ? 2 : controllers.includes('cpu') ? 1 : undefined;
    if (!version) continue;
    for (const mount of mounts.filter((x) => x.version === version)) {
      const found = lowestOnPath(root, mount, m[3]);
      if (found && (!best || found.cpus < best.cpus)) best = found;
    }
  }
  return best;
}

/** Walks from the process's cgroup directory up to the mount point: a parent's quota binds too. */
function lowestOnPath(root: string, mount: Mount, cgroupPath: string): CgroupQuota | undefined {
  const rel = path.posix.relative(mount.cgroupRoot, cgroupPath);
  // Outside the mounted subtree (a container that sees only its own cgroup as "/"): start there.
  const start =
    rel.startsWith('..') || !isDir(root, path.posix.join(mount.mountPoint, rel))
      ? mount.mountPoint
      : path.posix.join(mount.mountPoint, rel);
  let best: CgroupQuota | undefined;
  for (let dir = start; ; dir = path.posix.dirname(dir)) {
    const q = mount.version === 2 ? quotaV2(root, dir) : quotaV1(root, dir);
    if (q && (!best || q.cpus < best.cpus)) best = q;
    if (dir === mount.mountPoint || dir === '/') break;
  }
  return best;
}

function quotaV2(root: string, dir: string): CgroupQuota | undefined {
  const text = read(root, path.posix.join(dir, 'cpu.max'))?.trim();
  const m = text ? /^(\d+|max)\s+(\d+)$/.exec(text) : null;
  if (!m || m[1] === 'max' || Number(m[2]) <= 0) return undefined;
  return { cpus: Number(m[1]) / Number(m[2]), detail: `cgroup v2 cpu.max ${text} at ${dir}` };
}

function quotaV1(root: string, dir: string): CgroupQuota | undefined {
  const quota = Number(read(root, path.posix.join(dir, 'cpu.cfs_quota_us'))?.trim());
  const period = Number(read(root, path.posix.join(dir, 'cpu.cfs_period_us'))?.trim());
  if (!Number.isFinite(quota) || quota <= 0 || !Number.isFinite(period) || period <= 0)
    return undefined;
  return {
    cpus: quota / period,
    detail: `cgroup v1 cpu.cfs_quota_us ${quota} / cpu.cfs_period_us ${period} at ${dir}`,
  };
}

/** cgroup mounts from mountinfo; without it, the usual places (/sys/fs/cgroup, .../cpu). */
function readMounts(root: string): Mount[] {
  const info = read(root, '/proc/self/mountinfo');
  const out: Mount[] = [];
  for (const line of info?.split('\n') ?? []) {
    // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
    const [left, right] = line.split(' - ');
    if (!right) continue;
    const fields = left.split(' ');
    const [fstype, , superOptions = ''] = right.split(' ');
    const mount = { cgroupRoot: unescape(fields[3]), mountPoint: unescape(fields[4]) };
    if (fstype === 'cgroup2') out.push({ version: 2, ...mount });
    else if (fstype === 'cgroup' && superOptions.split(',').includes('cpu'))
      out.push({ version: 1, ...mount });
  }
  if (info !== undefined) return out;
  const guess = ['/sys/fs/cgroup/cpu', '/sys/fs/cgroup/cpu,cpuacct'].find((d) => isDir(root, d));
  return [
    { version: 2, cgroupRoot: '/', mountPoint: '/sys/fs/cgroup' },
    ...(guess ? [{ version: 1 as const, cgroupRoot: '/', mountPoint: guess }] : []),
  ];
}

/** mountinfo escapes space, tab, newline and backslash as octal. */
function unescape(field = ''): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
}

function read(root: string, file: string): string | undefined {
  try {
    return readFileSync(path.join(root, file), 'utf8');
  } catch {
    return undefined;
  }
}

function isDir(root: string, dir: string): boolean {
  try {
    return statSync(path.join(root, dir)).isDirectory();
  } catch {
    return false;
  }
}
