/** Freezing harness Redis processes (SIGSTOP / SIGCONT), for tests where a node stops answering. */
import type { RedisNode } from '../harness';

/**
 * SIGSTOPs the nodes (local processes: the containers provider has no pid here, and throws) and
 * returns the function that SIGCONTs them; call it in a `finally`. A frozen node keeps its sockets
 * open and answers nothing: a replica that cannot acknowledge a WAIT, a master that hangs.
 */
export function freeze(nodes: readonly (RedisNode | undefined)[]): () => void {
  const pids = nodes.map((node) => {
    const pid = (node as { pid?: number } | undefined)?.pid;
    if (pid === undefined) throw new Error('freeze needs harness processes with a pid');
    return pid;
  });
  for (const pid of pids) process.kill(pid, 'SIGSTOP');
  let thawed = false;
  return () => {
    if (thawed) return;
    thawed = true;
    for (const pid of pids) process.kill(pid, 'SIGCONT');
  };
}
