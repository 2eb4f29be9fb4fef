/** The engine contract on the in-process engine: the reference the Redis engine must match. */
import { KeyLayout } from '../../../src/store/keys';
import { MemoryEngine } from '../../../src/store/memory/memory-engine';
import { engineContract } from '../../support/suites/engine-contract';

describe('MemoryEngine', () => {
  engineContract(async () => {
    const engine = new MemoryEngine(16);
    await engine.start();
    return { engine, keys: new KeyLayout('hf', 16), close: () => engine.stop() };
  });

  it('refuses a shard outside the deployment', async () => {
    const engine = new MemoryEngine(4);
    await expect(engine.get(4, 'x', Date.now())).rejects.toThrow(RangeError);
  });
});
