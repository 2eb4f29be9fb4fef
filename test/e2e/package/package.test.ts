/**
 * The package as a hapi team gets it: `npm pack` of a clean copy of the sources (prepack builds),
 * the tarball installed into an empty app outside this repository with only its declared
 * dependencies, then README's "Use in your Hapi server" run as written, in ES modules and in
 * CommonJS, `tsc --strict` over it, every documented subpath resolved in CommonJS, ESM and
 * TypeScript, docs/api.md's library-mode block run, and a real hapi 20 refused. One pack and one
 * install serve every case.
 */
import { ChildProcess, execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { canary, LOG_DIR } from '../../harness/logs';

jest.setTimeout(60_000);

const ROOT = path.join(__dirname, '../../..');
const run = promisify(execFile);

/** Each subpath of package.json "exports" and one value it must export. */
const SUBPATHS: Record<string, string> = {
  holdfast: 'createServices',
  'holdfast/auth': 'holdfastCookieValidate',
  'holdfast/plugin': 'holdfastPlugin',
  'holdfast/health': 'holdfastHealth',
  'holdfast/metrics': 'holdfastMetrics',
  'holdfast/preflight': 'runPreflight',
};

/** The fenced code blocks of one `## ` section of a Markdown file, with their language. */
function blocks(file: string, heading: string): { lang: string; code: string }[] {
  const text = fs.readFileSync(path.join(ROOT, file), 'utf8');
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`${file} has no "## ${heading}" section`);
  const rest = text.slice(start + heading.length + 5);
  const end = rest.indexOf('\n## ');
  const section = end < 0 ? rest : rest.slice(0, end);
  return [...section.matchAll(/^```(\w+)\n([\s\S]*?)^```$/gm)].map((m) => ({
    lang: m[1],
    code: m[2],
  }));
}

const readme = blocks('README.md', 'Use in your Hapi server');
const ESM = readme.filter((b) => b.lang === 'ts').map((b) => b.code);
const CJS_FORM = readme.filter((b) => b.lang === 'js').map((b) => b.code);
const PLACEHOLDER = '  // the lines above, from `const settings` to `console.log`\n';

/** README's CommonJS block with its placeholder replaced by the ES block's lines it names. */
function commonJsProgram(esm: string, form: string): string {
  const lines = esm.split('\n');
  const from = lines.findIndex((l) => l.startsWith('const settings'));
  const to = lines.findIndex((l) => l.startsWith('console.log'));
  const body = lines.slice(from, to + 1).map((l) => `  ${l}\n`);
  return form.replace(PLACEHOLDER, body.join(''));
}

let work: string; // outside the repository: nothing resolves to its node_modules
let stage: string;
let app: string;
let packed: { filename: string; files: { path: string }[]; entryCount: number };
const timings: Record<string, number> = {};
const children: ChildProcess[] = [];

async function timed<T>(name: string, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  try {
    return await fn();
  } finally {
    timings[name] = Date.now() - started;
  }
}

const npmEnv = { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false' };

function npm(args: string[], cwd: string) {
  return run('npm', args, { cwd, env: npmEnv, maxBuffer: 64 * 1024 * 1024 });
}

function node(args: string[], env: Record<string, string> = {}) {
  return run(process.execPath, args, {
    cwd: app,
    env: { PATH: process.env.PATH ?? '', HOME: os.homedir(), NODE_ENV: 'test', ...env },
  });
}

beforeAll(async () => {
  const started = Date.now();
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-package-'));
  // The build runs on a copy inside the repository (its devDependencies resolve upward), so the
  // worktree's dist/ is never rebuilt under other tests.
  fs.mkdirSync(path.join(ROOT, '.tmp'), { recursive: true });
  stage = fs.mkdtempSync(path.join(ROOT, '.tmp', 'package-'));
  for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md']) {
    fs.copyFileSync(path.join(ROOT, entry), path.join(stage, entry));
  }
  for (const entry of ['LICENSE', 'src', 'docs', 'scripts/copy-assets.js']) {
    fs.cpSync(path.join(ROOT, entry), path.join(stage, entry), { recursive: true });
  }
  const { stdout } = await timed('pack (build included)', () =>
    npm(['pack', '--json', '--pack-destination', work], stage),
  );
  packed = JSON.parse(stdout.slice(stdout.indexOf('[')))[0];

  app = path.join(work, 'app');
  fs.mkdirSync(app);
  fs.writeFileSync(
    path.join(app, 'package.json'),
    JSON.stringify({ name: 'readme-app', version: '1.0.0', private: true }),
  );
  const hapi20 = path.join(work, 'hapi20');
  fs.mkdirSync(hapi20);
  fs.writeFileSync(
    path.join(hapi20, 'package.json'),
    JSON.stringify({ name: 'hapi20', version: '1.0.0', private: true }),
  );
  await timed('install', () =>
    Promise.all([
      npm(
        [
          'install',
          '--prefer-offline',
          path.join(work, packed.filename),
          '@hapi/hapi@21',
          'typescript@5.9',
          '@types/node@22',
        ],
        app,
      ),
      npm(['install', '--prefer-offline', '@hapi/hapi@20'], hapi20),
    ]),
  );
  timings.total = Date.now() - started;
  fs.mkdirSync(path.join(ROOT, 'test-artifacts'), { recursive: true });
  fs.writeFileSync(
    path.join(ROOT, 'test-artifacts', 'package-timings.json'),
    `${JSON.stringify({ ...timings, files: packed.entryCount }, null, 2)}\n`,
  );
}, 420_000);

afterAll(() => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  if (work) fs.rmSync(work, { recursive: true, force: true });
  if (stage) fs.rmSync(stage, { recursive: true, force: true });
});

/** Starts a program of the app and waits for its `listening on <uri>` line. */
async function serve(file: string, log: string): Promise<{ base: string; child: ChildProcess }> {
  fs.mkdirSync(LOG_DIR, { recursive: true });
  const out = fs.createWriteStream(path.join(LOG_DIR, `e2e-package-${log}.log`));
  const child = spawn(process.execPath, [file], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: os.homedir(),
      NODE_ENV: 'test',
      HOLDFAST_HTTP__HOST: '127.0.0.1',
      HOLDFAST_HTTP__PORT: '0',
    },
  });
  children.push(child);
  child.stderr?.pipe(out);
  const base = await new Promise<string>((resolve, reject) => {
    let seen = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      out.write(chunk);
      seen += chunk.toString();
      const m = /listening on http:\/\/[^:\s]+:(\d+)/.exec(seen);
      if (m) resolve(`http://127.0.0.1:${m[1]}`);
    });
    child.once('exit', (code) => reject(new Error(`${file} exited (${code}) before listening`)));
  });
  return { base, child };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** Registers a user and answers the session cookie and the user's id. */
async function signUp(base: string, email: string): Promise<{ cookie: string; id: string }> {
  const password = 'a long passphrase only this test uses 7';
  canary(password);
  const reg = await fetch(`${base}/auth/register`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password }),
  });
  expect(reg.status).toBe(201);
  const cookie = reg.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const me = await fetch(`${base}/auth/me`, { headers: { cookie } });
  expect(me.status).toBe(200);
  return { cookie, id: ((await me.json()) as { user: { id: string } }).user.id };
}

describe('the packed package', () => {
  it('holds only what runs: dist, docs, LICENSE, README, package.json', () => {
    const files = packed.files.map((f) => f.path);
    expect(
      files.filter(
        (f) => !/^(dist\/|docs\/[^/]+\.md$|LICENSE$|README\.md$|package\.json$)/.test(f),
      ),
    ).toEqual([]);
    expect(files.filter((f) => f.endsWith('.map'))).toEqual([]);
    for (const asset of [
      'src/store/lua',
      'src/users/lua',
      'src/plugin/views',
      'src/accounts/data',
    ]) {
      for (const name of fs.readdirSync(path.join(ROOT, asset), { recursive: true })) {
        const file = path.join(asset, String(name));
        if (fs.statSync(path.join(ROOT, file)).isFile()) {
          expect(files).toContain(file.replace(/^src\//, 'dist/'));
        }
      }
    }
    expect(files).toContain('LICENSE');
    // A loose bound (the filter above says what may be in it): catches a whole tree slipping in.
    expect(packed.entryCount).toBeLessThan(600);
  });

  it('installs hapi as a peer, not as its own copy', () => {
    const pkg = JSON.parse(
      fs.readFileSync(path.join(app, 'node_modules/holdfast/package.json'), 'utf8'),
    );
    expect(pkg.private).toBeUndefined();
    expect(pkg.peerDependencies).toEqual({ '@hapi/hapi': '>=21' });
    expect(pkg.dependencies['@hapi/hapi']).toBeUndefined();
    expect(fs.existsSync(path.join(app, 'node_modules/holdfast/node_modules/@hapi/hapi'))).toBe(
      false,
    );
  });
});

describe("README's server, as written", () => {
  it('has one ES block, one CommonJS block naming its lines, no cast', () => {
    expect(ESM).toHaveLength(1);
    expect(CJS_FORM).toHaveLength(1);
    expect(CJS_FORM[0].split(PLACEHOLDER)).toHaveLength(2);
    expect(ESM[0]).not.toMatch(/\bas\s+(unknown|any|\{)|<any>/);
  });

  for (const [kind, file] of [
    ['ES module', 'readme.mjs'],
    ['CommonJS', 'readme.cjs'],
  ] as const) {
    it(`runs in ${kind}: a protected route knows the signed-in user`, async () => {
      const program = kind === 'ES module' ? ESM[0] : commonJsProgram(ESM[0], CJS_FORM[0]);
      fs.writeFileSync(path.join(app, file), program);
      const { base, child } = await serve(file, file.replace('.', '-'));
      try {
        expect((await fetch(`${base}/`)).status).toBe(401);
        const { cookie, id } = await signUp(base, `${file.replace('.', '-')}@example.org`);
        const home = await fetch(`${base}/`, { headers: { cookie } });
        expect(home.status).toBe(200);
        expect(await home.text()).toBe(`hello ${id}`);
        // Pages come from the package's views: they were packed.
        const login = await fetch(`${base}/login`);
        expect(login.status).toBe(200);
        expect(login.headers.get('content-type')).toMatch(/^text\/html/);
      } finally {
        await stop(child);
      }
    });
  }
});

describe('types', () => {
  const tsc = (project: string) =>
    node([path.join(app, 'node_modules/typescript/bin/tsc'), '-p', project]).catch(
      (err: { stdout: string }) => {
        throw new Error(`tsc -p ${project}:\n${err.stdout}`);
      },
    );

  function tsconfig(name: string, options: Record<string, unknown>, files: string[]): string {
    fs.writeFileSync(
      path.join(app, name),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          target: 'ES2022',
          types: ['node'],
          skipLibCheck: true,
          ...options,
        },
        files,
      }),
    );
    return name;
  }

  const imports = Object.entries(SUBPATHS)
    .map(([spec, name], i) => `import { ${name} as v${i} } from '${spec}';`)
    .join('\n');
  const uses = `export const all: unknown[] = [${Object.keys(SUBPATHS)
    .map((_, i) => `v${i}`)
    .join(
      ', ',
    )}];\nimport type { PreflightReport } from 'holdfast/preflight';\nexport type R = PreflightReport['exitCode'];\n`;

  it('tsc --strict accepts README, the library-mode and admin blocks with no cast, and every subpath (node16: ESM and CommonJS)', async () => {
    fs.writeFileSync(path.join(app, 'readme.mts'), ESM[0]);
    fs.writeFileSync(
      path.join(app, 'library.mts'),
      blocks('docs/api.md', 'Library mode: health, metrics, preflight')[0].code,
    );
    // The admin hook's example: server.plugins.holdfast.admin is typed by the package (ADR 150).
    fs.writeFileSync(
      path.join(app, 'admin.mts'),
      blocks('docs/api.md', 'Administrators: `server.plugins.holdfast.admin`')[0].code,
    );
    fs.writeFileSync(path.join(app, 'subpaths.mts'), `${imports}\n${uses}`);
    fs.writeFileSync(path.join(app, 'subpaths.cts'), `${imports}\n${uses}`);
    await tsc(
      tsconfig('tsconfig.node16.json', { module: 'node16', moduleResolution: 'node16' }, [
        'readme.mts',
        'library.mts',
        'admin.mts',
        'subpaths.mts',
        'subpaths.cts',
      ]),
    );
  });

  it('resolves every subpath with moduleResolution bundler', async () => {
    fs.writeFileSync(path.join(app, 'subpaths-bundler.ts'), `${imports}\n${uses}`);
    await tsc(
      tsconfig('tsconfig.bundler.json', { module: 'ESNext', moduleResolution: 'bundler' }, [
        'subpaths-bundler.ts',
      ]),
    );
  });

  it('fails tsc when the handler reads a credential Holdfast does not set (the types are real)', async () => {
    fs.writeFileSync(
      path.join(app, 'wrong.mts'),
      ESM[0].replace('r.auth.credentials.user.id', 'r.auth.credentials.user.name'),
    );
    const err = await tsc(
      tsconfig('tsconfig.wrong.json', { module: 'node16', moduleResolution: 'node16' }, [
        'wrong.mts',
      ]),
    ).catch((e: Error) => e);
    expect(String(err)).toMatch(/Property 'name' does not exist/);
  });
});

describe('subpaths at run time', () => {
  it('each resolves in CommonJS and in ESM to the same objects; dist is private', async () => {
    fs.writeFileSync(
      path.join(app, 'subpaths.mjs'),
      `import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const subpaths = ${JSON.stringify(SUBPATHS)};
const out = {};
for (const [spec, name] of Object.entries(subpaths)) {
  const cjs = require(spec);
  const esm = await import(spec);
  out[spec] = {
    cjs: cjs[name] !== undefined,
    esm: esm[name] !== undefined,
    same: esm[name] === cjs[name],
    names: Object.keys(esm).length === Object.keys(cjs).filter((n) => n !== '__esModule').length,
  };
}
try { require('holdfast/dist/index.js'); out.deep = 'resolved'; } catch (e) { out.deep = e.code; }
console.log(JSON.stringify(out));
`,
    );
    const { stdout } = await node(['subpaths.mjs']);
    const out = JSON.parse(stdout);
    for (const spec of Object.keys(SUBPATHS)) {
      expect({ spec, ...out[spec] }).toEqual({
        spec,
        cjs: true,
        esm: true,
        same: true,
        names: true,
      });
    }
    expect(out.deep).toBe('ERR_PACKAGE_PATH_NOT_EXPORTED');
  });
});

describe('library mode, from docs/api.md', () => {
  it('runs the block: preflight passes, /health/ready is 200, /metrics counts the session', async () => {
    const [block] = blocks('docs/api.md', 'Library mode: health, metrics, preflight');
    fs.writeFileSync(
      path.join(app, 'library.mjs'),
      `${block.code}console.log(\`listening on \${server.info.uri}\`);\n`,
    );
    const { base, child } = await serve('library.mjs', 'library');
    try {
      const ready = await fetch(`${base}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toMatchObject({ ready: true, store: 'up' });
      await signUp(base, 'library@example.org');
      const metrics = await (await fetch(`${base}/metrics`)).text();
      expect(metrics).toMatch(/^holdfast_ready 1$/m);
      expect(metrics).toMatch(/^holdfast_sessions_active 1$/m);
      expect(metrics).toMatch(/^holdfast_sessions_created_total\{method="password"\} 1$/m);
    } finally {
      await stop(child);
    }
  });
});

describe('the installed command', () => {
  it('`holdfast preflight --json` runs from node_modules/.bin with the packed assets', async () => {
    const { stdout } = await node(
      [path.join(app, 'node_modules/.bin/holdfast'), 'preflight', '--json'],
      {
        HOLDFAST_HTTP__PORT: '0',
      },
    );
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, exitCode: 0 });
  });
});

describe('an older hapi', () => {
  it('a real hapi 20 is refused at registration with HF_HAPI_VERSION naming its version', async () => {
    fs.writeFileSync(
      path.join(app, 'hapi20.cjs'),
      `const Hapi = require(${JSON.stringify(path.join(work, 'hapi20/node_modules/@hapi/hapi'))});
const { createServices, holdfastPlugin, loadSettings } = require('holdfast');
const settings = loadSettings();
const { sessions, accounts } = createServices(settings);
const server = Hapi.server();
server.register({ plugin: holdfastPlugin, options: { settings, sessions, accounts } }).then(
  () => console.log(JSON.stringify({ registered: true, version: server.version })),
  (e) => console.log(JSON.stringify({ code: e.code, message: e.message, version: server.version })),
);
`,
    );
    const out = JSON.parse((await node(['hapi20.cjs'])).stdout);
    expect(out.version).toMatch(/^20\./);
    expect(out).toEqual({
      code: 'HF_HAPI_VERSION',
      version: out.version,
      message: `holdfast needs @hapi/hapi 21 or later (peerDependencies ">=21"); this server is @hapi/hapi ${out.version}: npm install @hapi/hapi@21`,
    });
  });
});
