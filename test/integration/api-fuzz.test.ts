import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/lib/cursor.ts';
import { createTestApp } from '../helpers/app.ts';
import { bearer, makeApiKey, ownerHeader } from '../helpers/factories.ts';
import { fleetOf, IMAGES, seedCatalog } from '../helpers/fleet.ts';

// Walks every operation in /api/openapi.json (so a route added later is fuzzed too) and
// sends it wrong types, NUL bytes, lone surrogates, invalid UTF-8, huge strings, deep
// nesting, tampered cursors and unknown enum values, in-process only. The contract: no
// answer is a 5xx, and every error is application/problem+json.

type Schema = {
  $ref?: string;
  type?: string | string[];
  format?: string;
  enum?: unknown[];
  example?: unknown;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  anyOf?: Schema[];
  oneOf?: Schema[];
  minItems?: number;
  minimum?: number;
};
type Parameter = { name: string; in: 'path' | 'query'; schema: Schema };
type Operation = {
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  security?: Record<string, string[]>[];
};

const ID = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';
const HUGE = 'x'.repeat(100_000);
/** Raw JSON text standing in for a value too deep for JSON.stringify (see toJson). */
class RawJson {
  constructor(readonly text: string) {}
}
const deep = (depth: number) => new RawJson(`${'['.repeat(depth)}${']'.repeat(depth)}`);
/** JSON.stringify that splices RawJson text in place. */
function toJson(value: unknown): string {
  const raws: string[] = [];
  const text = JSON.stringify(value, (_k, v) =>
    v instanceof RawJson ? `\u0001raw${raws.push(v.text) - 1}\u0001` : v,
  );
  return text.replace(/"\\u0001raw(\d+)\\u0001"/g, (_m, i: string) => raws[Number(i)] ?? 'null');
}
const cursorOf = (json: string) => Buffer.from(json).toString('base64url');

/** Query and path values that are wrong in every way we know (percent-encoded as sent). */
const BAD_TEXT = [
  'bogus',
  '',
  '%00',
  'a%00b',
  '%ED%A0%80', // an encoded lone surrogate
  '%C3%28', // invalid UTF-8
  '%FF%FE',
  encodeURIComponent(HUGE.slice(0, 5000)),
  '-1',
  '0',
  '1.5',
  '1e308',
  'NaN',
  '%5B%5D',
  'true',
];
const BAD_CURSORS = [
  'AAAA',
  '%00',
  'not*base64',
  cursorOf('{}'),
  cursorOf('[1.5,"0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","after"]'),
  cursorOf('[1e308,"0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","after"]'),
  cursorOf('["not a date","0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","before"]'),
  cursorOf('["a\\u0000b","0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","after"]'),
  cursorOf('["\\ud800","0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","after"]'),
  cursorOf('[null,"0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11","sideways"]'),
  cursorOf('[[],"not-a-uuid","after"]'),
  encodeCursor({ key: 'run_at.desc|2026-13-45T99:00:00Z', id: ID, dir: 'after' }),
  encodeCursor({ key: 'status.asc|1.5|2026-01-01T00:00:00.000Z', id: ID, dir: 'after' }),
  encodeCursor({ key: 2 ** 31, id: ID, dir: 'after' }),
  Buffer.from([0xff, 0xfe, 0x00, 0x5b]).toString('base64url'),
];
const BAD_VALUES: unknown[] = [
  12345,
  -1.5,
  1e308,
  true,
  null,
  [],
  {},
  'bogus-enum-value',
  'a\u0000b',
  '\ud800',
  HUGE,
  deep(5000),
  { nested: deep(2000) },
];

describe('fuzzing every operation in the OpenAPI document', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const admin = (await makeApiKey(t, 'admin')).key;
  const platform = (await makeApiKey(t, 'platform')).key;
  const [instance] = await fleetOf(t, 1);
  const owner = (await ownerHeader(t, `/instances/${instance?.id}`))['Fleetwarden-User'] ?? ID;
  const doc = await (await t.app.request(t.url('/api/openapi.json'))).json();
  const ref = (s: Schema): Schema =>
    s.$ref ? ref(doc.components.schemas[s.$ref.split('/').pop() ?? '']) : s;

  /** A plausible value for a schema, so mutations reach the deeper checks. */
  function sample(raw: Schema, name = ''): unknown {
    const s = ref(raw);
    if (s.anyOf ?? s.oneOf) return sample((s.anyOf ?? s.oneOf ?? [])[0] ?? {}, name);
    if (s.enum) return s.enum[0];
    if (s.example !== undefined) return s.example;
    const type = Array.isArray(s.type) ? s.type[0] : s.type;
    if (type === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sample(v, k);
      return out;
    }
    if (type === 'array')
      return Array.from({ length: s.minItems ?? 1 }, () => sample(s.items ?? {}));
    if (type === 'integer' || type === 'number') return s.minimum ?? 1;
    if (type === 'boolean') return false;
    if (s.format === 'uuid') return instance?.id ?? ID;
    if (s.format === 'email') return 'fuzz@example.test';
    if (s.format === 'date-time') return new Date(Date.now() + 3_600_000).toISOString();
    const known: Record<string, string> = {
      imageTag: IMAGES.current,
      targetImageTag: IMAGES.latest,
      region: 'ams',
      appName: t.deps.config.fly.appName,
      reason: 'fuzz',
      versionLabel: '9.9.9',
    };
    return known[name] ?? 'fuzz';
  }

  /** The body with `value` at `path` (an empty path replaces the whole body). */
  function withValue(body: unknown, path: string[], value: unknown): unknown {
    if (path.length === 0) return value;
    const [head, ...rest] = path as [string, ...string[]];
    const obj = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>;
    return { ...obj, [head]: withValue(obj[head], rest, value) };
  }

  /** Every object property path in a sample body, two levels deep. */
  function paths(value: unknown, prefix: string[] = []): string[][] {
    if (!value || typeof value !== 'object' || Array.isArray(value) || prefix.length >= 2)
      return [];
    return Object.entries(value).flatMap(([k, v]) => [[...prefix, k], ...paths(v, [...prefix, k])]);
  }

  type Probe = { method: string; url: string; headers: Record<string, string>; body?: BodyInit };
  const operations = Object.entries(doc.paths as Record<string, Record<string, Operation>>).flatMap(
    ([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method, op })),
  );

  function probesFor(path: string, method: string, op: Operation): Probe[] {
    // Platform requests act for the fuzzed instance's owner, so they reach the routes' checks.
    const auth = op.security?.some((s) => 'platformKey' in s)
      ? { ...bearer(platform), 'Fleetwarden-User': owner }
      : bearer(admin);
    const params = op.parameters ?? [];
    const goodPath = (p: Parameter) => (p.name === 'userId' ? ID : (instance?.id ?? ID));
    const url = (pathValues: Record<string, string>, query = '') =>
      t.url(`/api${path.replace(/\{(\w+)\}/g, (_, n: string) => pathValues[n] ?? ID)}${query}`);
    const good = Object.fromEntries(
      params.filter((p) => p.in === 'path').map((p) => [p.name, goodPath(p)]),
    );
    const jsonSchema = op.requestBody?.content['application/json']?.schema;
    const body = jsonSchema ? sample(jsonSchema) : undefined;
    const json = (value: unknown): Probe => ({
      method: method.toUpperCase(),
      url: url(good),
      headers: { ...auth, 'Content-Type': 'application/json' },
      body: toJson(value),
    });
    const probes: Probe[] = [];
    for (const p of params) {
      const values = p.in === 'query' && p.name === 'cursor' ? BAD_CURSORS : BAD_TEXT;
      for (const v of values)
        probes.push(
          p.in === 'path'
            ? { method: method.toUpperCase(), url: url({ ...good, [p.name]: v }), headers: auth }
            : { method: method.toUpperCase(), url: url(good, `?${p.name}=${v}`), headers: auth },
        );
    }
    if (body !== undefined) {
      probes.push(json(body));
      for (const at of paths(body))
        for (const v of BAD_VALUES) probes.push(json(withValue(body, at, v)));
      for (const at of [[], ...paths(body).filter((p) => p.length === 1)])
        probes.push(json(withValue(body, [...at, 'unknownField'], 1)));
      for (const whole of [null, [], 'text', 42, deep(50_000), [body]]) probes.push(json(whole));
      const text = new TextEncoder().encode(toJson(body));
      probes.push(
        { ...json(body), body: '{"unterminated": ' },
        { ...json(body), body: '' },
        {
          ...json(body),
          body: new Uint8Array([...text.slice(0, -2), 0xc3, 0x28, ...text.slice(-2)]),
        },
        { ...json(body), body: new Uint8Array([0xff, 0xfe, ...text]) },
        { ...json(body), headers: { ...auth, 'Content-Type': 'text/plain' } },
      );
    }
    return probes;
  }

  it('finds the operations to fuzz in the document', () => {
    expect(operations.length).toBeGreaterThanOrEqual(20);
    expect(operations.some((o) => o.op.requestBody)).toBe(true);
  });

  it('answers every probe with a non-5xx, and every error as problem+json', async () => {
    const failures: string[] = [];
    const problemTypes = new Set<string>();
    let sent = 0;
    for (const { path, method, op } of operations) {
      const probes = probesFor(path, method, op);
      // Bounded: a few hundred requests at most per operation.
      expect(probes.length, `${method} ${path}`).toBeLessThan(400);
      for (const probe of probes) {
        const res = await t.app.request(probe.url, {
          method: probe.method,
          headers: probe.headers,
          ...(probe.body !== undefined ? { body: probe.body } : {}),
        });
        sent++;
        const type = res.headers.get('content-type') ?? '';
        const text = await res.text();
        const what = `${probe.method} ${probe.url.slice(0, 160)} → ${res.status}`;
        if (res.status >= 500) failures.push(`${what}: ${text.slice(0, 200)}`);
        else if (res.status >= 400 && type !== 'application/problem+json')
          failures.push(`${what} as ${type}`);
        else if (res.status >= 400 && typeof JSON.parse(text).type !== 'string')
          failures.push(`${what}: no problem type`);
        else if (res.status >= 400) problemTypes.add(JSON.parse(text).type);
      }
    }
    // Every problem type met has its page (RFC 9457 §3.1.1: the type URI is documentation).
    for (const type of problemTypes) {
      const page = await t.app.request(t.url(type));
      if (page.status !== 200) failures.push(`problem type ${type} has no page (${page.status})`);
    }
    // The server-side errors behind any 5xx, to say which line failed.
    const unhandled = t.logs.filter((l) => l.includes('"http.unhandled_error"'));
    expect(failures, unhandled.join('\n').slice(0, 4000)).toEqual([]);
    console.log(`api fuzz: ${sent} requests over ${operations.length} operations`);
    expect(sent).toBeGreaterThan(500);
    expect(unhandled).toEqual([]);
  }, 300_000);
});
