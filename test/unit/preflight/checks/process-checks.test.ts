/**
 * process.cookie-password through the whole preflight run (no store: the memory engine): the
 * values the docs publish as examples, and anything shaped like a placeholder, stop a production
 * start; a generated secret passes; the secret itself is never printed.
 */
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KNOWN_EXAMPLE_PASSWORDS, loadSettings, type Settings } from '../../../../src/config';
import { formatResult, runPreflight, type CheckResult } from '../../../../src/preflight';
import { ROOT } from '../../../support/files';

function settings(env: Settings['env'], password: string): Settings {
  const base = loadSettings({ env: { NODE_ENV: 'test' } });
  return { ...base, env, cookie: { ...base.cookie, password } };
}

async function cookieCheck(env: Settings['env'], password: string): Promise<CheckResult> {
  const report = await runPreflight({ settings: settings(env, password) });
  const result = report.results.find((r) => r.id === 'process.cookie-password');
  if (!result) throw new Error('no process.cookie-password result');
  return result;
}

/** Cookie passwords written literally in the docs, the README, the deploy files and the chart. */
function publishedValues(): string[] {
  const files = [
    ...readdirSync(join(ROOT, 'docs')).map((f) => join('docs', f)),
    'README.md',
    ...readdirSync(join(ROOT, 'deploy')).map((f) => join('deploy', f)),
    ...readdirSync(join(ROOT, 'helm/holdfast/examples')).map((f) =>
      join('helm/holdfast/examples', f),
    ),
  ].filter((f) => /\.(md|ya?ml|env)$/.test(f));
  const values = new Set<string>();
  for (const f of files) {
    const text = readFileSync(join(ROOT, f), 'utf8');
    for (const m of text.matchAll(/cookie:\s*\{[^}\n]*?password:\s*"([^"]+)"/g)) values.add(m[1]);
    for (const m of text.matchAll(/cookie:\s*\n\s+password:\s*"?([^"\n]+)"?/g)) values.add(m[1]);
    for (const m of text.matchAll(/COOKIE__PASSWORD[=:]\s*"?([^"\s$][^"\s]*)"?/g)) values.add(m[1]);
    for (const m of text.matchAll(/cookiePassword:\s*"?([^"'\s][^"\s]*)"?/g)) values.add(m[1]);
  }
  return [...values];
}

describe('process.cookie-password', () => {
  it('finds the example of docs/configuration.md among the published values', () => {
    expect(publishedValues()).toContain('${a random 32+ character secret}');
  });

  it('fails in production on every cookie password the docs and examples publish', async () => {
    for (const value of [...publishedValues(), ...KNOWN_EXAMPLE_PASSWORDS]) {
      if (value.length < 32) continue; // refused for its length already
      const r = await cookieCheck('production', value);
      expect({ value, status: r.status }).toEqual({ value, status: 'fail' });
    }
  });

  it.each([
    ['a template left unexpanded', '${a random 32+ character secret}'],
    ['a Helm/mustache template', '{{ .Values.secrets.cookiePassword }}xx'],
    ['angle brackets', '<paste a 32+ character random secret>'],
    ['change me', 'ChangeMe-ChangeMe-ChangeMe-0123456789'],
    ['an ellipsis', '...at least 32 characters, random...'],
    ['the word placeholder', 'placeholder-value-for-the-cookie-pw'],
    ['your-...', 'your-own-long-cookie-password-here'],
  ])('refuses %s in production, naming the setting and how to generate one', async (_, value) => {
    const r = await cookieCheck('production', value);
    expect(r.status).toBe('fail');
    expect(r.observed).toBe(
      `a secret of ${value.length} characters shaped like a placeholder copied from an example`,
    );
    expect(r.hint).toContain('cookie.password');
    expect(r.hint).toContain('HOLDFAST_COOKIE__PASSWORD');
    expect(r.hint).toContain('openssl rand -base64 33');
    expect(formatResult(r)).not.toContain(value);
  });

  it('only warns about a placeholder outside production', async () => {
    const r = await cookieCheck('development', '${a random 32+ character secret}');
    expect(r.status).toBe('warn');
  });

  it('passes generated secrets in production (200 of them, base64 and base64url)', async () => {
    for (let i = 0; i < 200; i++) {
      const bytes = randomBytes(33);
      for (const value of [bytes.toString('base64'), bytes.toString('base64url')]) {
        const r = await cookieCheck('production', value);
        expect({ value, status: r.status }).toEqual({ value, status: 'pass' });
      }
    }
  });
});
