/**
 * A network namespace the test makes, joined to the host by one veth pair on a /30 of
 * 10.200.0.0/16, to cut one process off from another with iptables DROP (a partition: packets
 * vanish, nothing answers RST). Before anything else the whole test subnet gets a blackhole route
 * in the host namespace, so a packet meant for a test address can never leave the machine.
 *
 * Needs root, `ip` (iproute2) and `iptables`: without them `create` throws with what is missing
 * (the scenario fails, it is never skipped). `destroy` undoes every step that was done, also after
 * a failure half-way through `create`.
 */
import { execFile } from 'node:child_process';

export const TEST_SUBNET = '10.200.0.0/16';
const COMMAND_TIMEOUT_MS = 10_000;

function run(cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(cmd, args, { timeout: COMMAND_TIMEOUT_MS }, (error, stdout, stderr) =>
      error
        ? reject(new Error(`${cmd} ${args.join(' ')}: ${(stderr || error.message).trim()}`))
        : resolve(stdout),
    ),
  );
}

/** Why this machine cannot make namespaces, or undefined when it can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (process.getuid?.() !== 0) {
    return 'the partition scenario needs root (network namespaces, veth, iptables)';
  }
  for (const [cmd, flag, pkg] of [
    ['ip', '-V', 'iproute2'],
    ['iptables', '--version', 'iptables'],
  ]) {
    try {
      await run(cmd, [flag]);
    } catch {
      return `\`${cmd}\` is missing: run \`make system-deps\` (apt-get install ${pkg})`;
    }
  }
  return undefined;
}

export class TestNetns {
  /** Undo steps, last done first. */
  private readonly undo: Array<() => Promise<unknown>> = [];
  private readonly dropRules: string[][] = [];

  private constructor(
    /** The namespace's name (for `ip netns exec`). */
    readonly name: string,
    /** The host end's address: servers the namespace should reach bind here. */
    readonly hostIp: string,
    /** The namespace end's address: what runs inside listens here. */
    readonly nsIp: string,
  ) {}

  /** `ip netns exec <name>`: a command prefix (spawnHoldfast's wrapper). */
  get exec(): string[] {
    return ['ip', 'netns', 'exec', this.name];
  }

  static async create(): Promise<TestNetns> {
    const missing = await netnsUnavailable();
    if (missing) throw new Error(missing);
    // A /30 per process: 10.200.<128..247>.<4k+1, 4k+2>, away from other suites' low addresses.
    const id = process.pid % 7680;
    const base = `10.200.${128 + Math.floor(id / 64)}.${(id % 64) * 4}`;
    const prefix = base.slice(0, base.lastIndexOf('.') + 1);
    const last = Number(base.slice(base.lastIndexOf('.') + 1));
    const ns = new TestNetns(`hf-part-${process.pid}`, prefix + (last + 1), prefix + (last + 2));
    const hostIf = `hfp${process.pid}h`.slice(0, 15);
    const nsIf = `hfp${process.pid}n`.slice(0, 15);
    try {
      // First: nothing for 10.200/16 leaves the machine, whatever else goes wrong.
      const routes = await run('ip', ['route', 'show', 'type', 'blackhole', TEST_SUBNET]);
      if (!routes.includes(TEST_SUBNET.split('/')[0])) {
        await run('ip', ['route', 'add', 'blackhole', TEST_SUBNET]);
        // Another suite may rely on it too: removed only if no other test namespace is left.
        ns.undo.push(async () => {
          const left = (await run('ip', ['netns', 'list'])).includes('hf-part-');
          if (!left) await run('ip', ['route', 'del', 'blackhole', TEST_SUBNET]);
        });
      }
      await run('ip', ['netns', 'add', ns.name]);
      ns.undo.push(() => run('ip', ['netns', 'del', ns.name]));
      await run('ip', ['link', 'add', hostIf, 'type', 'veth', 'peer', 'name', nsIf]);
      // Deleting one end deletes both; after `netns del` it is already gone (ignored).
      ns.undo.push(() => run('ip', ['link', 'del', hostIf]));
      await run('ip', ['link', 'set', nsIf, 'netns', ns.name]);
      await run('ip', ['addr', 'add', `${ns.hostIp}/30`, 'dev', hostIf]);
      await run('ip', ['link', 'set', hostIf, 'up']);
      const inNs = (args: string[]) => run('ip', ['netns', 'exec', ns.name, ...args]);
      await inNs(['ip', 'addr', 'add', `${ns.nsIp}/30`, 'dev', nsIf]);
      await inNs(['ip', 'link', 'set', nsIf, 'up']);
      await inNs(['ip', 'link', 'set', 'lo', 'up']);
      return ns;
    } catch (error) {
      await ns.destroy();
      throw error;
    }
  }

  /** DROPs every TCP packet between the namespace and these ports of the host end. */
  async partition(ports: number[]): Promise<void> {
    for (const port of ports) {
      for (const rule of [
        ['OUTPUT', '-p', 'tcp', '-d', this.hostIp, '--dport', String(port), '-j', 'DROP'],
        ['INPUT', '-p', 'tcp', '-s', this.hostIp, '--sport', String(port), '-j', 'DROP'],
      ]) {
        await run('ip', ['netns', 'exec', this.name, 'iptables', '-A', ...rule]);
        this.dropRules.push(rule);
      }
    }
  }

  /** Removes the DROP rules: packets flow again (nothing else changed). */
  async heal(): Promise<void> {
    for (const rule of this.dropRules.splice(0)) {
      await run('ip', ['netns', 'exec', this.name, 'iptables', '-D', ...rule]);
    }
  }

  /** Undoes everything `create` did; every step is tried even if one fails. */
  async destroy(): Promise<void> {
    const errors: string[] = [];
    for (const step of this.undo.splice(0).reverse()) {
      await step().catch((e: Error) => {
        if (!/Cannot find device|No such file|does not exist/.test(e.message)) {
          errors.push(e.message);
        }
      });
    }
    if (errors.length) throw new Error(`netns cleanup: ${errors.join('; ')}`);
  }
}
