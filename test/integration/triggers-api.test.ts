import { describe, expect, it } from 'vitest';
import { createTestApp, testClock } from '../helpers/app.ts';
import { DST_CASES } from '../helpers/dst-cases.ts';
import { bruteForceFires } from '../helpers/dst-oracle.ts';
import { bearer, makeApiKey, makeInstance, makeUser, ownerHeader } from '../helpers/factories.ts';
import { fakeController } from '../helpers/fake-controller.ts';
import { api } from '../helpers/fleet.ts';

describe('agents API (admin and platform)', async () => {
  const clock = testClock(new Date('2026-12-05T08:00:00Z'));
  const fake = fakeController();
  const t = await createTestApp({ serve: true, clock, wrapController: () => fake.client });
  const { key } = await makeApiKey(t, 'admin');
  const admin = api(t, key);
  const { key: pkey } = await makeApiKey(t, 'platform');
  const platform = async (method: string, path: string, body?: unknown) => {
    const res = await t.app.request(t.url(`/api/platform${path}`), {
      method,
      headers: {
        ...bearer(pkey),
        ...(await ownerHeader(t, path)),
        ...(body ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      body: text ? JSON.parse(text) : null,
      type: res.headers.get('content-type'),
    };
  };
  const user = await makeUser(t);
  const { db } = t.db;
  await db.execute(`update users set time_zone = 'America/New_York' where id = '${user.id}'`);
  const instance = await makeInstance(t, { userId: user.id });
  const other = await makeInstance(t);
  const base = {
    instanceId: instance.id,
    name: 'Daily outreach',
    prompt: 'Write to new stargazers.',
  };

  it('validates the expression and the zone together: 422 naming the field and saying why', async () => {
    const six = await admin('POST', '/agents', {
      ...base,
      cronExpression: '0 0 9 * * *',
      timeZone: 'UTC',
    });
    expect(six.status).toBe(422);
    expect(six.body).toMatchObject({
      type: '/problems/invalid-schedule',
      detail:
        'cronExpression: 6 fields given; expected 5 (minute hour day-of-month month day-of-week).',
      errors: [
        {
          path: 'cronExpression',
          message: '6 fields given; expected 5 (minute hour day-of-month month day-of-week)',
        },
      ],
    });
    const zone = await admin('POST', '/agents', {
      ...base,
      cronExpression: '0 9 * * *',
      timeZone: 'Europe/Atlantis',
    });
    expect(zone.status).toBe(422);
    expect(zone.body.errors).toEqual([
      {
        path: 'timeZone',
        message: '"Europe/Atlantis" is not an IANA time zone (e.g. Europe/Berlin)',
      },
    ]);
    const long = await admin('POST', '/agents', {
      ...base,
      cronExpression: `0 ${'1,'.repeat(70)}2 * * *`,
    });
    expect(long.status).toBe(400);
    const list = await admin('GET', `/agents?instanceId=${instance.id}`);
    expect(list.body.items).toEqual([]);
  });

  it('creates in the user’s zone by default, with camelCase fields and the next fire time', async () => {
    const res = await admin('POST', '/agents', { ...base, cronExpression: '0 9 * * 1-5' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      instanceId: instance.id,
      name: 'Daily outreach',
      cronExpression: '0 9 * * 1-5',
      timeZone: 'America/New_York',
      enabled: true,
      overlapPolicy: 'skip',
      catchupPolicy: 'skip',
      catchupWindowSeconds: 3600,
      // Saturday 5 December 2026 at 08:00 UTC: the next weekday 09:00 in New York is Monday 14:00 UTC.
      nextFireAt: '2026-12-07T14:00:00.000Z',
      lastFiredAt: null,
      disabledReason: null,
    });
  });

  it('previews the next fire times in UTC and the zone, with the offset, saved and unsaved', async () => {
    const created = await admin('POST', '/agents', {
      ...base,
      name: 'Night',
      cronExpression: '30 2 * * *',
      timeZone: 'America/New_York',
    });
    const saved = await admin(
      'GET',
      `/agents/${created.body.id}/preview?n=3&from=2026-03-07T12:00:00Z`,
    );
    expect(saved.body).toEqual({
      timeZone: 'America/New_York',
      items: [
        { at: '2026-03-08T07:00:00.000Z', local: '2026-03-08T03:00:00', offset: '-04:00' },
        { at: '2026-03-09T06:30:00.000Z', local: '2026-03-09T02:30:00', offset: '-04:00' },
        { at: '2026-03-10T06:30:00.000Z', local: '2026-03-10T02:30:00', offset: '-04:00' },
      ],
    });
    const draft = await admin('POST', '/agents/preview', {
      cronExpression: '0 9 * * *',
      timeZone: 'Asia/Kolkata',
      n: 1,
      from: '2026-12-05T00:00:00Z',
    });
    expect(draft.body.items).toEqual([
      { at: '2026-12-05T03:30:00.000Z', local: '2026-12-05T09:00:00', offset: '+05:30' },
    ]);
    const bad = await admin('POST', '/agents/preview', {
      cronExpression: '0 9 * *',
      timeZone: 'UTC',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0]).toEqual({
      path: 'cronExpression',
      message: '4 fields given; expected 5 (minute hour day-of-month month day-of-week)',
    });
  });

  it('the daylight-saving table through the preview endpoint matches the brute-force Intl walk', async () => {
    for (const c of DST_CASES) {
      const expected = bruteForceFires(
        c.matches,
        c.fixed,
        c.zone,
        new Date(c.from),
        new Date(c.to),
      ).map((d) => d.toISOString());
      const res = await admin('POST', '/agents/preview', {
        cronExpression: c.expression,
        timeZone: c.zone,
        n: expected.length + 1,
        from: new Date(new Date(c.from).getTime() - 1).toISOString(),
      });
      const got = (res.body.items as { at: string }[])
        .map((i) => i.at)
        .filter((at) => at < new Date(c.to).toISOString());
      expect(got, c.name).toEqual(expected);
    }
  });

  it('changing the expression recomputes the next fire time; pause and resume; run now does not consume it', async () => {
    const created = await admin('POST', '/agents', {
      ...base,
      name: 'Hourly',
      cronExpression: '0 * * * *',
      timeZone: 'UTC',
    });
    const id = created.body.id;
    expect(created.body.nextFireAt).toBe('2026-12-05T09:00:00.000Z');
    const changed = await admin('PATCH', `/agents/${id}`, { cronExpression: '15 * * * *' });
    expect(changed.body.nextFireAt).toBe('2026-12-05T08:15:00.000Z');
    const paused = await admin('POST', `/agents/${id}/pause`);
    expect(paused.body).toMatchObject({ enabled: false, nextFireAt: null });
    const resumed = await admin('POST', `/agents/${id}/resume`);
    expect(resumed.body).toMatchObject({ enabled: true, nextFireAt: '2026-12-05T08:15:00.000Z' });
    const run = await admin('POST', `/agents/${id}/run`);
    expect(run.status).toBe(202);
    expect(run.body).toMatchObject({
      trigger: 'manual',
      status: 'ready',
      agentId: id,
      reason: null,
    });
    const after = await admin('GET', `/agents/${id}`);
    expect(after.body).toMatchObject({ nextFireAt: '2026-12-05T08:15:00.000Z', lastFiredAt: null });
    const unknownField = await admin('PATCH', `/agents/${id}`, {
      nextFireAt: '2030-01-01T00:00:00Z',
    });
    expect(unknownField.status).toBe(400);
  });

  it('lists sessions newest first with filters and keyset pagination', async () => {
    const created = await admin('POST', '/agents', {
      ...base,
      name: 'Many',
      cronExpression: null,
      overlapPolicy: 'allow_all',
    });
    const id = created.body.id;
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      clock.advance(1000);
      ids.push((await admin('POST', `/agents/${id}/run`)).body.id);
    }
    const page1 = await admin('GET', `/agents/${id}/sessions?limit=2`);
    expect(page1.body.items.map((s: { id: string }) => s.id)).toEqual([ids[4], ids[3]]);
    const page2 = await admin(
      'GET',
      `/agents/${id}/sessions?limit=2&cursor=${page1.body.nextCursor}`,
    );
    expect(page2.body.items.map((s: { id: string }) => s.id)).toEqual([ids[2], ids[1]]);
    const back = await admin(
      'GET',
      `/agents/${id}/sessions?limit=2&cursor=${page2.body.prevCursor}`,
    );
    expect(back.body.items.map((s: { id: string }) => s.id)).toEqual([ids[4], ids[3]]);
    const cron = await admin('GET', `/agents/${id}/sessions?trigger=cron`);
    expect(cron.body.items).toEqual([]);
    const bad = await admin('GET', `/agents/${id}/sessions?trigger=timer`);
    expect(bad.status).toBe(400);
  });

  it('lists agents by next fire time with search and filters, and pages by keyset', async () => {
    const page = await admin('GET', `/agents?instanceId=${instance.id}&limit=2`);
    expect(page.status).toBe(200);
    const times = page.body.items.map((a: { nextFireAt: string | null }) => a.nextFireAt);
    expect([...times].sort()).toEqual(times);
    const rest = await admin(
      'GET',
      `/agents?instanceId=${instance.id}&limit=50&cursor=${page.body.nextCursor}`,
    );
    expect(rest.body.items.length).toBeGreaterThan(0);
    const searched = await admin('GET', '/agents?q=outreach');
    expect(searched.body.items.map((a: { name: string }) => a.name)).toEqual(['Daily outreach']);
    const zone = await admin('GET', '/agents?timeZone=America/New_York&sort=name');
    expect(zone.body.items.map((a: { name: string }) => a.name)).toEqual([
      'Daily outreach',
      'Many',
      'Night',
    ]);
    const wrongSort = await admin('GET', `/agents?sort=name&cursor=${page.body.nextCursor}`);
    expect(wrongSort.status).toBe(400);
  });

  it('platform routes see only the instance’s own agents', async () => {
    const mine = await platform('POST', `/instances/${instance.id}/agents`, {
      name: 'From the app',
      prompt: 'Hello',
      cronExpression: '0 8 * * *',
    });
    expect(mine.status).toBe(201);
    const id = mine.body.id;
    expect((await platform('GET', `/instances/${instance.id}/agents/${id}`)).status).toBe(200);
    expect((await platform('GET', `/instances/${other.id}/agents/${id}`)).status).toBe(404);
    expect((await platform('POST', `/instances/${other.id}/agents/${id}/run`)).status).toBe(404);
    const run = await platform('POST', `/instances/${instance.id}/agents/${id}/run`);
    expect(run.body).toMatchObject({ trigger: 'manual', status: 'ready' });
    const preview = await platform('POST', `/instances/${instance.id}/agents/preview`, {
      cronExpression: '0 8 * * *',
      timeZone: 'UTC',
      n: 2,
    });
    expect(preview.body.items).toHaveLength(2);
    expect((await platform('DELETE', `/instances/${instance.id}/agents/${id}`)).status).toBe(204);
    expect((await platform('GET', `/instances/${instance.id}/agents/${id}`)).status).toBe(404);
    const unknownInstance = await platform('POST', `/instances/${crypto.randomUUID()}/agents`, {
      name: 'x',
      prompt: 'y',
    });
    expect(unknownInstance.status).toBe(404);
    expect(unknownInstance.type).toMatch(/problem\+json/);
  });

  it('every agents route is in the OpenAPI document', async () => {
    const doc = await (await t.app.request(t.url('/api/openapi.json'))).json();
    const paths = Object.keys(doc.paths);
    for (const p of [
      '/admin/agents',
      '/admin/agents/preview',
      '/admin/agents/{id}',
      '/admin/agents/{id}/run',
      '/admin/agents/{id}/pause',
      '/admin/agents/{id}/resume',
      '/admin/agents/{id}/preview',
      '/admin/agents/{id}/sessions',
      '/platform/instances/{instanceId}/agents',
      '/platform/instances/{instanceId}/agents/preview',
      '/platform/instances/{instanceId}/agents/{id}',
      '/platform/instances/{instanceId}/agents/{id}/run',
      '/platform/instances/{instanceId}/agents/{id}/sessions',
    ])
      expect(paths, p).toContain(p);
    expect(Object.keys(doc.paths['/admin/agents'].post.responses)).toEqual(
      expect.arrayContaining(['201', '400', '401', '404', '422']),
    );
  });
});
