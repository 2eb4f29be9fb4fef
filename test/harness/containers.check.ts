/**
 * Runs only in the containers run (jest.containers.config.js, `make test` through podman): the
 * servers the other suites of that run get are really containers, so a misconfigured run
 * cannot pass on local processes. Named *.check.ts so the default run (local) skips it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { getContainerRuntimeClient } from 'testcontainers';
import { ContainerRedis, demuxLogs, HARNESS_LABEL } from './containers';
import { getProvider } from './provider';

const provider = getProvider();

describe('containers provider', () => {
  it('is the provider HOLDFAST_REDIS_PROVIDER selects', () => {
    expect(process.env.HOLDFAST_REDIS_PROVIDER).toBe('containers');
    expect(provider.name).toBe('containers');
  });

  it('runs redis-server as pid 1 of its own container, reachable on loopback', async () => {
    const node = await provider.standalone();
    try {
      expect(node.host).toBe('127.0.0.1');
      // A local child process never has pid 1; a container's entrypoint always does.
      expect((await node.info('server')).process_id).toBe('1');
      expect(await node.logTail(50)).toMatch(/Ready to accept connections/);
    } finally {
      await node.destroy();
    }
  });

  it('labels its containers with the owner label the podman script removes by', async () => {
    const node = await provider.standalone();
    try {
      expect(node).toBeInstanceOf(ContainerRedis);
      // podman.sh sets the owner to its checkout; `down` removes exactly these containers.
      const owner = process.env.HOLDFAST_CONTAINERS_OWNER;
      expect(owner).toBe(join(__dirname, '../..'));
      expect(HARNESS_LABEL).toEqual({
        'holdfast.harness': 'redis',
        'holdfast.harness.owner': owner,
      });
      const client = await getContainerRuntimeClient();
      const listed = await client.container.dockerode.listContainers({
        all: true,
        filters: { label: [`holdfast.harness.owner=${owner}`] },
      });
      expect(listed.map((c) => c.Id)).toContain((node as ContainerRedis).id);
      const script = readFileSync(join(__dirname, '../../scripts/containers/podman.sh'), 'utf8');
      expect(script).toContain('LABEL="holdfast.harness.owner=$ROOT"');
    } finally {
      await node.destroy();
    }
  });

  it('reads the framed log stream of the engine API', () => {
    const frame = (stream: number, text: string): Buffer => {
      const header = Buffer.alloc(8);
      header[0] = stream;
      header.writeUInt32BE(Buffer.byteLength(text), 4);
      return Buffer.concat([header, Buffer.from(text)]);
    };
    expect(demuxLogs(Buffer.concat([frame(1, 'out\n'), frame(2, 'err\n')]))).toBe('out\nerr\n');
    // A TTY stream has no frames and comes back as it is.
    expect(demuxLogs(Buffer.from('plain text'))).toBe('plain text');
  });
});
