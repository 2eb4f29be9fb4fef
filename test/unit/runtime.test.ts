import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The supported Node lines are written in three places (docs/adr/020-supported-node-lines.md):
 * package.json `engines`, the pins and floor in scripts/node-runtime.sh that `make` runs with,
 * and `@types/node`, which follows the lowest line so code cannot use an API it lacks.
 */
const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
  engines: { node: string };
  devDependencies: Record<string, string>;
};
const script = readFileSync(join(ROOT, 'scripts', 'node-runtime.sh'), 'utf8');

function scriptVar(name: string): string {
  const match = new RegExp(`^${name}=(\\S+)$`, 'm').exec(script);
  if (!match) throw new Error(`scripts/node-runtime.sh sets no ${name}`);
  return match[1];
}

const [major24, , patch24] = scriptVar('PINNED_24').split('.');
const [major22, minor22] = scriptVar('PINNED_22').split('.');
const floor = Number(scriptVar('MIN_22_MINOR'));

describe('supported Node lines', () => {
  it('engines names 22 from the floor make accepts, and 24 onwards', () => {
    expect(pkg.engines.node).toBe(`^22.${floor}.0 || >=24`);
  });

  it('pins one release of each supported line, the 22 one at or above the floor', () => {
    expect(major24).toBe('24');
    expect(patch24).toMatch(/^\d+$/);
    expect(major22).toBe('22');
    expect(Number(minor22)).toBeGreaterThanOrEqual(floor);
  });

  it('types Node APIs as the lowest supported line has them', () => {
    expect(pkg.devDependencies['@types/node']).toMatch(/^\^22\./);
    const installed = JSON.parse(
      readFileSync(join(ROOT, 'node_modules', '@types', 'node', 'package.json'), 'utf8'),
    ) as { version: string };
    expect(installed.version.split('.')[0]).toBe('22');
  });
});
