/**
 * The OpenAPI document against the routes hapi really serves: the same operations (method and
 * path, under the plugin's route prefix), request bodies and parameters with the validators' keys
 * and required-ness, and every status a probe of each route gets is one its operation lists.
 */
import type { RequestRoute } from '@hapi/hapi';
import { buildTestApp, TestApp, testSettings } from '../../support/app';
import { call, Jar } from '../../support/inject';

interface Op {
  operationId: string;
  security?: unknown[];
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: {
    required: boolean;
    content: Record<string, { schema: { properties: object; required?: string[] } }>;
  };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: unknown }>; headers?: object }
  >;
}
interface Doc {
  paths: Record<string, Record<string, Op>>;
}

const PROVIDERS = { github: { clientId: 'id', clientSecret: 'secret' } };
const PASSWORD = 'correct horse battery';

/** Keys and required keys of a joi validator, read from joi's own description. */
function keysOf(schema: unknown): { keys: string[]; required: string[] } | null {
  if (!schema || typeof (schema as { describe?: unknown }).describe !== 'function') return null;
  const d = (
    schema as { describe(): { keys?: Record<string, { flags?: { presence?: string } }> } }
  ).describe();
  const entries = Object.entries(d.keys ?? {});
  return {
    keys: entries.map(([k]) => k).sort(),
    required: entries
      .filter(([, v]) => v.flags?.presence === 'required')
      .map(([k]) => k)
      .sort(),
  };
}

/** The plugin's JSON API and OAuth routes as hapi serves them. */
function served(app: TestApp): RequestRoute[] {
  return app.server.table().filter((r) => {
    const tags = r.settings.tags ?? [];
    return (
      r.realm.plugin === 'holdfast' && (tags.includes('api') || tags.includes('holdfast-oauth'))
    );
  });
}

/** A provider's own sign-in route is the `{provider}` operation. */
const docPath = (prefix: string, path: string) =>
  path === `${prefix}/auth/oauth/github` ? `${prefix}/auth/oauth/{provider}` : path;

describe.each([
  ['at the root', ''],
  ['under a route prefix', '/id'],
])('%s', (_name, prefix) => {
  let app: TestApp;
  let doc: Doc;
  beforeAll(async () => {
    app = await buildTestApp({
      prefix: prefix || undefined,
      settings: testSettings({ oauth: PROVIDERS }),
    });
    const res = await call(app.server, null, 'GET', `${prefix}/auth/openapi.json`);
    expect(res.statusCode).toBe(200);
    doc = JSON.parse(res.payload);
  });

  test('the same operations as the served routes, both ways', () => {
    const routes = served(app).map((r) => `${r.method} ${docPath(prefix, r.path)}`);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) =>
      Object.keys(ops).map((m) => `${m} ${path}`),
    );
    expect(routes.length).toBeGreaterThanOrEqual(15);
    expect([...new Set(routes)].sort()).toEqual(documented.sort());
    for (const path of Object.keys(doc.paths))
      expect(path.startsWith(`${prefix}/auth/`)).toBe(true);
  });

  test("a session id's documented pattern takes 16- and 22-char ids (formats 4 and earlier), no other", () => {
    const params = doc.paths[`${prefix}/auth/sessions/{id}`].delete.parameters as unknown as Array<{
      name: string;
      schema: { pattern: string };
    }>;
    const pattern = new RegExp(params.find((p) => p.name === 'id')!.schema.pattern);
    const lengths = Array.from({ length: 40 }, (_, n) => n).filter((n) =>
      pattern.test('A'.repeat(n)),
    );
    expect(lengths).toEqual([16, 22]);
    expect(pattern.test(`${'A'.repeat(15)}.`)).toBe(false);
  });

  test('request bodies and parameters carry the validators: keys and required-ness', () => {
    for (const route of served(app)) {
      const op = doc.paths[docPath(prefix, route.path)][route.method];
      const validate = (route.settings.validate ?? {}) as Record<string, unknown>;
      const where = `${route.method} ${route.path}`;

      const payload = keysOf(validate.payload);
      if (payload) {
        expect([where, op.requestBody?.required]).toEqual([where, true]);
        const schema = op.requestBody?.content['application/json'].schema;
        expect([where, Object.keys(schema?.properties ?? {}).sort()]).toEqual([
          where,
          payload.keys,
        ]);
        expect([where, [...(schema?.required ?? [])].sort()]).toEqual([where, payload.required]);
      } else {
        expect([where, op.requestBody]).toEqual([where, undefined]);
      }

      // Path parameters: exactly the path's own, all required, and the validator's keys.
      const inPath = [...docPath(prefix, route.path).matchAll(/\{(\w+)\}/g)]
        .map((m) => m[1])
        .sort();
      const pathParams = (op.parameters ?? []).filter((p) => p.in === 'path');
      expect([where, pathParams.map((p) => p.name).sort()]).toEqual([where, inPath]);
      for (const p of pathParams) expect(p.required).toBe(true);
      const params = keysOf(validate.params);
      if (params) expect([where, params.keys]).toEqual([where, inPath]);

      const query = keysOf(validate.query);
      const queryParams = (op.parameters ?? []).filter((p) => p.in === 'query');
      if (query) {
        expect([where, queryParams.map((p) => p.name).sort()]).toEqual([where, query.keys]);
        const required = queryParams.filter((p) => p.required).map((p) => p.name);
        expect([where, required.sort()]).toEqual([where, query.required]);
      }

      // A route that needs a session says so.
      const auth = route.settings.auth as { mode?: string } | false;
      expect([where, !!op.security]).toEqual([where, !!auth && auth.mode === 'required']);
    }
  });

  test('every operation: a unique operationId, a described answer for each status, bodies with schemas', () => {
    const ids: string[] = [];
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const where = `${method} ${path}`;
        expect([where, op.operationId]).toEqual([where, expect.stringMatching(/^[a-z][A-Za-z]+$/)]);
        ids.push(op.operationId);
        for (const [status, answer] of Object.entries(op.responses)) {
          expect(answer.description.length).toBeGreaterThan(3);
          // A 202 (durability pending, ADR 215) has the body of the operation's 200, or none (204).
          const bodyless =
            ['204', '302', '303'].includes(status) || (status === '202' && !op.responses['200']);
          expect([where, status, !!answer.content]).toEqual([where, status, !bodyless]);
          if (Number(status) >= 400) {
            expect(answer.content?.['application/json'].schema).toEqual({
              $ref: '#/components/schemas/Error',
            });
          }
          if (status === '429' || status === '503')
            expect(answer.headers).toHaveProperty('Retry-After');
        }
      }
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('every status a probe of each route gets is one its operation lists', async () => {
    const jar = new Jar();
    const reg = await call(app.server, jar, 'POST', `${prefix}/auth/register`, {
      email: `openapi.${prefix.length}.${Date.now()}@example.com`,
      password: PASSWORD,
    });
    expect(reg.statusCode).toBe(201);
    const seen: string[] = [];
    const unlisted: string[] = [];
    for (const route of served(app)) {
      const op = doc.paths[docPath(prefix, route.path)][route.method];
      const url = route.path
        .replace('{id}', 'AAAAAAAAAAAAAAAAAAAAAA')
        .replace('{provider}', 'github');
      const probe = async (
        what: string,
        payload: string | undefined,
        headers: Record<string, string>,
        signedIn = true,
      ) => {
        const res = await call(
          app.server,
          signedIn ? jar.clone() : null,
          route.method,
          url,
          payload,
          headers,
        );
        seen.push(`${route.method} ${route.path} ${what} ${res.statusCode}`);
        if (!(String(res.statusCode) in op.responses))
          unlisted.push(`${route.method} ${route.path}: ${what} answered ${res.statusCode}`);
        return res.statusCode;
      };
      if (route.method === 'get') {
        await probe('anonymous', undefined, {}, false);
        continue;
      }
      const json = { 'content-type': 'application/json' };
      const max = route.settings.payload?.maxBytes ?? 1_048_576;
      expect(await probe('oversized', `"${'x'.repeat(max)}"`, json)).toBe(413);
      expect(await probe('xml', '<a/>', { 'content-type': 'application/xml' })).toBe(415);
      expect(await probe('untyped', '{}', {})).toBe(415);
      expect(await probe('not JSON', '{', json)).toBe(400);
      expect(await probe('cross-site', '{}', { ...json, origin: 'https://evil.example' })).toBe(
        403,
      );
      const auth = route.settings.auth as { mode?: string } | false;
      if (auth && auth.mode === 'required')
        expect(await probe('anonymous', '{}', json, false)).toBe(401);
      if (keysOf((route.settings.validate as { payload?: unknown }).payload))
        expect(await probe('empty object', '{}', json)).toBe(400);
    }
    expect(seen.length).toBeGreaterThan(50);
    expect(unlisted).toEqual([]);
  });
});
