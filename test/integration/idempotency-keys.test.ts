// Idempotency-Key on the creating requests (draft-ietf-httpapi-idempotency-key-header):
// a retried request with its key changes nothing and answers as the first did.
import { count, eq } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { describe, expect, it } from 'vitest';
import {
  agentSessions,
  agents,
  cliRuns,
  idempotencyKeys,
  instances,
  scheduledActions,
} from '../../db/schema/index.ts';
import type { Deps } from '../../src/deps.ts';
import { createTestApp } from '../helpers/app.ts';
import { sweepNow } from '../helpers/callbacks.ts';
import { bearer, makeApiKey } from '../helpers/factories.ts';
import { fleetOf, IMAGES, seedCatalog } from '../helpers/fleet.ts';

type Answer = { status: number; replayed: string | null; type: string | null; body: string };

/** A gate the fake controller's session starts wait at while it is closed. */
function gate() {
  let open: () => void = () => {};
  let opened = Promise.resolve();
  let arrived: () => void = () => {};
  let arrival = Promise.resolve();
  return {
    close() {
      opened = new Promise((r) => (open = r));
      arrival = new Promise((r) => (arrived = r));
    },
    open: () => open(),
    /** Resolves when a start is waiting at the closed gate. */
    arrival: () => arrival,
    async pass() {
      arrived();
      await opened;
    },
  };
}

describe('Idempotency-Key on creating requests', async () => {
  const held = gate();
  const t = await createTestApp({
    serve: true,
    wrapController: (controller): Deps['controller'] => ({
      ...controller,
      startSession: async (...args) => {
        await held.pass();
        return controller.startSession(...args);
      },
    }),
  });
  await seedCatalog(t);
  const adminKey = (await makeApiKey(t, 'admin')).key;
  const otherAdminKey = (await makeApiKey(t, 'admin')).key;
  const platformKey = (await makeApiKey(t, 'platform')).key;
  const [a, b, c] = await fleetOf(t, 3);
  if (!a || !b || !c) throw new Error('no fleet');
  const ownerOf = async (id: string) =>
    (await t.db.db.select().from(instances).where(eq(instances.id, id)))[0]?.userId ?? '';

  const send = async (
    surface: 'admin' | 'platform',
    method: string,
    path: string,
    body: unknown,
    headers: Record<string, string>,
  ): Promise<Answer> => {
    const res = await t.app.request(t.url(`/api/${surface}${path}`), {
      method,
      headers: {
        ...headers,
        ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return {
      status: res.status,
      replayed: res.headers.get('Idempotent-Replayed'),
      type: res.headers.get('content-type')?.includes('problem') ? JSON.parse(text).type : null,
      body: text,
    };
  };
  const admin = (method: string, path: string, body: unknown, key?: string, token = adminKey) =>
    send('admin', method, path, body, {
      ...bearer(token),
      ...(key !== undefined ? { 'Idempotency-Key': key } : {}),
    });
  const rows = async (table: PgTable) =>
    Number((await t.db.db.select({ n: count() }).from(table))[0]?.n);
  const agentBody = (instanceId: string) => ({
    instanceId,
    name: `agent-${crypto.randomUUID().slice(0, 8)}`,
    prompt: 'Check the inbox.',
    cronExpression: '0 9 * * *',
    timeZone: 'UTC',
  });
  const agentId = JSON.parse((await admin('POST', '/agents', agentBody(c.id))).body).id as string;

  /** Every creating request: what it sends, the table it adds to, and the status it answers. */
  const creating = [
    {
      name: 'admin provision',
      table: instances,
      status: 202,
      call: (key: string, body?: unknown) =>
        admin(
          'POST',
          '/instances',
          body ?? {
            userEmail: `owner-${key.slice(0, 8)}@example.test`,
            region: 'ams',
            imageTag: IMAGES.current,
          },
          key,
        ),
    },
    {
      name: 'admin scheduled action',
      table: scheduledActions,
      status: 201,
      call: (key: string, body?: unknown) =>
        admin(
          'POST',
          '/scheduled-actions',
          body ?? {
            actionType: 'restart',
            instances: { ids: [c.id] },
            runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
            reason: `idempotency ${key}`,
          },
          key,
        ),
    },
    {
      name: 'admin agent create',
      table: agents,
      status: 201,
      call: (key: string, body?: unknown) =>
        admin(
          'POST',
          '/agents',
          body ?? { ...agentBody(c.id), name: `agent-${key.slice(0, 8)}` },
          key,
        ),
    },
    {
      name: 'platform agent create',
      table: agents,
      status: 201,
      call: async (key: string, body?: unknown) =>
        send(
          'platform',
          'POST',
          `/instances/${c.id}/agents`,
          body ?? { name: `agent-${key.slice(0, 8)}`, prompt: 'hi' },
          {
            ...bearer(platformKey),
            'Fleetwarden-User': await ownerOf(c.id),
            'Idempotency-Key': key,
          },
        ),
    },
    {
      name: 'admin agent run',
      table: agentSessions,
      status: 202,
      call: (key: string, body?: unknown) => admin('POST', `/agents/${agentId}/run`, body, key),
    },
    {
      name: 'admin CLI-run start',
      table: cliRuns,
      status: 201,
      call: (key: string, body?: unknown) =>
        admin('POST', `/instances/${a.id}/cli-runs`, body ?? { prompt: '#sim duration=600s' }, key),
    },
    {
      name: 'platform CLI-run start',
      table: cliRuns,
      status: 201,
      call: async (key: string, body?: unknown) =>
        send(
          'platform',
          'POST',
          `/instances/${b.id}/cli-runs`,
          body ?? { prompt: '#sim duration=600s' },
          {
            ...bearer(platformKey),
            'Fleetwarden-User': await ownerOf(b.id),
            'Idempotency-Key': key,
          },
        ),
    },
  ];

  for (const op of creating) {
    it(`${op.name}: a replay with the key answers the first answer and creates nothing; another body is 422`, async () => {
      const key = crypto.randomUUID();
      const before = await rows(op.table);
      const first = await op.call(key);
      expect(first.status, first.body).toBe(op.status);
      expect(first.replayed).toBeNull();
      expect(await rows(op.table)).toBe(before + 1);

      const again = await op.call(key);
      expect(again).toEqual({ ...first, replayed: 'true' });
      expect(await rows(op.table)).toBe(before + 1);

      const other = await op.call(key, { other: 'body' });
      expect(other.status, other.body).toBe(422);
      expect(other.type).toBe('/problems/idempotency-key-reused');
      expect(await rows(op.table)).toBe(before + 1);
    });
  }

  it('20 concurrent provisions with one key make one instance; the others replay it or answer 409', async () => {
    const key = crypto.randomUUID();
    const before = await rows(instances);
    const answers = await Promise.all(Array.from({ length: 20 }, () => creating[0]?.call(key)));
    expect(await rows(instances)).toBe(before + 1);
    const fresh = answers.filter((r) => r?.status === 202 && r.replayed === null);
    expect(fresh).toHaveLength(1);
    for (const r of answers) {
      if (r === fresh[0]) continue;
      if (r?.status === 409) expect(r.type).toBe('/problems/idempotency-key-in-use');
      else expect(r).toEqual({ ...fresh[0], replayed: 'true' });
    }
  });

  it('20 concurrent agent creates with one key make one agent', async () => {
    const key = crypto.randomUUID();
    const before = await rows(agents);
    const answers = await Promise.all(Array.from({ length: 20 }, () => creating[2]?.call(key)));
    expect(await rows(agents)).toBe(before + 1);
    expect(answers.filter((r) => r?.status === 201 && r.replayed === null)).toHaveLength(1);
    expect(
      answers.every((r) => r?.status === 201 || r?.type === '/problems/idempotency-key-in-use'),
    ).toBe(true);
  });

  it('a key whose first request is still running answers 409; once it is done, its answer', async () => {
    const key = crypto.randomUUID();
    held.close();
    const first = admin('POST', `/agents/${agentId}/run`, undefined, key);
    await held.arrival();
    const during = await admin('POST', `/agents/${agentId}/run`, undefined, key);
    expect(during.status).toBe(409);
    expect(during.type).toBe('/problems/idempotency-key-in-use');
    held.open();
    const done = await first;
    expect(done.status, done.body).toBe(202);
    expect(await admin('POST', `/agents/${agentId}/run`, undefined, key)).toEqual({
      ...done,
      replayed: 'true',
    });
  });

  it('the same key from another credential or another user is another key', async () => {
    const key = crypto.randomUUID();
    const before = await rows(agents);
    const body = agentBody(c.id);
    expect((await admin('POST', '/agents', body, key)).status).toBe(201);
    const other = await admin(
      'POST',
      '/agents',
      { ...body, name: `${body.name}-2` },
      key,
      otherAdminKey,
    );
    expect(other.status, other.body).toBe(201);
    expect(other.replayed).toBeNull();
    // The platform key acting for two users: each user's key is their own.
    for (const instance of [a, b]) {
      const res = await send(
        'platform',
        'POST',
        `/instances/${instance.id}/agents`,
        { name: `agent-${instance.id.slice(0, 8)}`, prompt: 'hi' },
        {
          ...bearer(platformKey),
          'Fleetwarden-User': await ownerOf(instance.id),
          'Idempotency-Key': key,
        },
      );
      expect(res.status, res.body).toBe(201);
      expect(res.replayed).toBeNull();
    }
    expect(await rows(agents)).toBe(before + 4);
  });

  it('without the header every request runs, as before; a key of a bad shape is 400', async () => {
    const before = await rows(agents);
    const body = agentBody(c.id);
    expect((await admin('POST', '/agents', body)).status).toBe(201);
    expect((await admin('POST', '/agents', { ...body, name: `${body.name}-b` })).status).toBe(201);
    expect(await rows(agents)).toBe(before + 2);
    for (const bad of ['', 'a b', 'x'.repeat(256), 'quote"d', '"unterminated']) {
      const res = await admin('POST', '/agents', agentBody(c.id), bad);
      expect(res.status, bad).toBe(400);
      expect(res.type, bad).toBe('/problems/invalid-idempotency-key');
    }
    // The draft's structured-field string is the same key as the bare one.
    const key = crypto.randomUUID();
    const named = agentBody(c.id);
    expect((await admin('POST', '/agents', named, key)).status).toBe(201);
    expect((await admin('POST', '/agents', named, `"${key}"`)).replayed).toBe('true');
    expect(await rows(agents)).toBe(before + 3);
  });

  it('a key is kept 24 h: the sweep then deletes it and the key is free again', async () => {
    const key = crypto.randomUUID();
    const body = agentBody(c.id);
    expect((await admin('POST', '/agents', body, key)).status).toBe(201);
    t.clock.advance(23 * 3_600_000);
    await sweepNow(t);
    expect((await admin('POST', '/agents', body, key)).replayed).toBe('true');
    t.clock.advance(3_600_000 + 1000);
    await sweepNow(t);
    const left = await t.db.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    expect(left).toEqual([]);
    const reused = await admin('POST', '/agents', { ...body, name: `${body.name}-new` }, key);
    expect(reused.status, reused.body).toBe(201);
    expect(reused.replayed).toBeNull();
  });

  it('documents the header on each creating operation, and its problems', async () => {
    const doc = await (await t.app.request(t.url('/api/openapi.json'))).json();
    expect(doc.components.parameters.IdempotencyKey).toMatchObject({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
    });
    const ref = { $ref: '#/components/parameters/IdempotencyKey' };
    for (const [path, method] of [
      ['/admin/instances', 'post'],
      ['/admin/instances/{id}', 'delete'],
      ['/admin/instances/{id}/restart', 'post'],
      ['/admin/scheduled-actions', 'post'],
      ['/admin/agents', 'post'],
      ['/admin/agents/{id}/run', 'post'],
      ['/admin/instances/{id}/cli-runs', 'post'],
      ['/platform/instances/{id}/cli-runs', 'post'],
      ['/platform/instances/{instanceId}/agents', 'post'],
      ['/platform/instances/{instanceId}/agents/{id}/run', 'post'],
      ['/platform/users/{userId}/instances/{id}', 'delete'],
    ] as const) {
      const op = doc.paths[path]?.[method];
      expect(op?.parameters, `${method} ${path}`).toContainEqual(ref);
      expect(op?.responses['409'], `${method} ${path}`).toBeTruthy();
      expect(op?.responses['422'], `${method} ${path}`).toBeTruthy();
    }
    expect(doc.paths['/admin/agents'].get.parameters ?? []).not.toContainEqual(ref);
    for (const code of [
      'invalid-idempotency-key',
      'idempotency-key-reused',
      'idempotency-key-in-use',
    ])
      expect((await t.app.request(t.url(`/problems/${code}`))).status, code).toBe(200);
  });
});
