import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { imageCatalog } from '../../db/schema/index.ts';
import { encodeCursor } from '../../src/lib/cursor.ts';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, get, makeApiKey, makeInstance } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

const NUL = '\u0000';
const ID = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';

// Input the database cannot take (NUL, lone surrogates, mistyped cursor keys, invalid
// UTF-8) is refused by validation with a 4xx naming the field; it never reaches PostgreSQL.
describe('bad input at the edges', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const call = api(t, key);
  const raw = (path: string, init: RequestInit = {}) =>
    t.app.request(t.url(`/api/admin${path}`), {
      ...init,
      headers: { ...bearer(key), 'Content-Type': 'application/json', ...init.headers },
    });
  const expectProblem = async (res: Response, status: number, paths: string[] = []) => {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.json();
    for (const path of paths)
      expect(body.errors?.map((e: { path: string }) => e.path)).toContain(path);
    expect(t.logs.filter((l) => l.includes('http.unhandled_error'))).toEqual([]);
    return body;
  };

  it('refuses a NUL byte in any query value, naming the parameter', async () => {
    for (const [path, name] of [
      [`/instances?q=a${NUL}b`, 'q'],
      [`/instances?region=a${NUL}`, 'region'],
      [`/instances?imageTag=${NUL}`, 'imageTag'],
      [`/audit-log?actor=${NUL}x`, 'actor'],
      [`/audit-log?action=api_key.${NUL}`, 'action'],
      [`/audit-log?subjectType=${NUL}`, 'subjectType'],
      [`/audit-log?subjectId=${NUL}`, 'subjectId'],
    ] as const)
      await expectProblem(await raw(path.replace(NUL, '%00')), 400, [name]);
  });

  it('refuses a NUL byte or a lone surrogate in a JSON text field, naming it, and stores nothing', async () => {
    for (const imageTag of [`registry.fly.io/a:1${NUL}`, 'registry.fly.io/a:1\ud800']) {
      const res = await raw('/images', {
        method: 'POST',
        body: JSON.stringify({ imageTag, versionLabel: '1' }),
      });
      await expectProblem(res, 400, ['imageTag']);
    }
    const stored = await t.db.db
      .select()
      .from(imageCatalog)
      .where(eq(imageCatalog.versionLabel, '1'));
    expect(stored).toEqual([]);
    const schedule = await raw('/scheduled-actions/preview', {
      method: 'POST',
      body: JSON.stringify({
        actionType: 'restart',
        instances: { ids: [ID] },
        runAt: 'now',
        reason: `why${NUL}`,
      }),
    });
    await expectProblem(schedule, 400, ['reason']);
  });

  it('answers invalid UTF-8 in a JSON body with 400, not silently replaced', async () => {
    const head = new TextEncoder().encode('{"imageTag":"registry.fly.io/a:');
    const tail = new TextEncoder().encode('","versionLabel":"utf8"}');
    const body = new Uint8Array([...head, 0xc3, 0x28, ...tail]);
    const res = await raw('/images', { method: 'POST', body });
    expect((await expectProblem(res, 400)).type).toBe('/problems/invalid-utf8');
    const stored = await t.db.db
      .select()
      .from(imageCatalog)
      .where(eq(imageCatalog.versionLabel, 'utf8'));
    expect(stored).toEqual([]);
  });

  it('refuses unknown fields in admin JSON bodies, naming each (top level and nested)', async () => {
    const image = await raw('/images', {
      method: 'POST',
      body: JSON.stringify({ imageTag: 'registry.fly.io/a:2', versionLabel: '2', colour: 'red' }),
    });
    await expectProblem(image, 400, ['colour']);
    const schedule = await raw('/scheduled-actions/preview', {
      method: 'POST',
      body: JSON.stringify({
        actionType: 'restart',
        instances: { ids: [ID] },
        runAt: 'now',
        reason: 'x',
        rollout: { stages: [100], intervalMinute: 5 },
      }),
    });
    await expectProblem(schedule, 400, ['rollout.intervalMinute']);
    const openapi = await (await t.app.request(t.url('/api/openapi.json'))).json();
    expect(openapi.components.schemas.ScheduleRequest.additionalProperties).toBe(false);
  });

  it('refuses cursors whose key is not the type their sort expects', async () => {
    const cursor = (k: string | number) => encodeCursor({ key: k, id: ID, dir: 'after' });
    for (const path of [
      `/instances?sort=created&cursor=${cursor('yesterday')}`,
      `/instances?sort=created&cursor=${cursor('1')}`,
      `/instances?sort=created&cursor=${cursor(5)}`,
      `/instances?sort=name&cursor=${cursor(`a${NUL}`)}`,
      `/instances?sort=name&cursor=${cursor(1.5)}`,
      `/audit-log?cursor=${cursor('not a date')}`,
      `/audit-log?cursor=${cursor(1e308)}`,
    ]) {
      const body = await expectProblem(await raw(path), 400);
      expect(body.type, path).toBe('/problems/invalid-cursor');
    }
    const fleet = await fleetOf(t, 1);
    const action = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [fleet[0]?.id] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'cursor check',
    });
    expect(action.status, JSON.stringify(action.body)).toBe(201);
    for (const k of [1.5, 1e308, 2 ** 31, -1e20]) {
      const res = await raw(`/scheduled-actions/${action.body.id}/targets?cursor=${cursor(k)}`);
      expect((await expectProblem(res, 400)).type, String(k)).toBe('/problems/invalid-cursor');
    }
    const ok = await raw(`/scheduled-actions/${action.body.id}/targets?cursor=${cursor(0)}`);
    expect(ok.status).toBe(200);
  });

  it('refuses a NUL byte in the console: sign-in email, list filters, forms', async () => {
    const login = await t.app.request(t.url('/admin/login'), {
      method: 'POST',
      headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: `admin${NUL}@example.test`, password: 'x' }),
    });
    expect(login.status).toBe(400);
    expect(await login.text()).toContain('email: must not contain NUL');
    const { cookie } = await adminSession(t);
    for (const path of [
      `/admin/instances?q=%00`,
      `/admin/instances?region=ams%00`,
      `/admin/audit?actor=%00`,
    ]) {
      const res = await get(t, path, cookie);
      expect(res.status, path).toBe(400);
      expect(await res.text()).toContain('must not contain NUL');
    }
    const instance = await makeInstance(t);
    const pin = await t.app.request(t.url(`/admin/instances/${instance.id}/pin`), {
      method: 'POST',
      headers: {
        Origin: t.origin,
        Cookie: cookie,
        'Content-Type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ imageTag: `registry.fly.io/agent:1.0.0${NUL}` }),
    });
    expect(pin.status).toBe(400);
    expect(t.logs.filter((l) => l.includes('http.unhandled_error'))).toEqual([]);
  });
});
