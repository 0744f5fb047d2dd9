import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { auditLog, instances } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller } from '../helpers/cli-runs.ts';
import { bearer, makeApiKey } from '../helpers/factories.ts';
import { api, provisioned, seedCatalog } from '../helpers/fleet.ts';

type Res = { status: number; body: Record<string, unknown> | null };

// The product's apps act for one user at a time: a user token (minted with the platform
// key) or the platform key with Fleetwarden-User. Nothing of another user's is reachable.
describe('platform tenancy: user tokens and the acting user', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const adminKey = (await makeApiKey(t, 'admin')).key;
  const platformKey = (await makeApiKey(t, 'platform')).key;
  const admin = caller(t, 'admin', adminKey);
  const owner = async (instanceId: string) =>
    (await t.db.db.select().from(instances).where(eq(instances.id, instanceId)))[0]?.userId ?? '';
  const a = await provisioned(t, api(t, adminKey));
  const b = await provisioned(t, api(t, adminKey));
  const userA = await owner(a.id);
  const userB = await owner(b.id);

  /** A platform request with `auth` headers. */
  const platform =
    (headers: Record<string, string>) =>
    async (method: string, path: string, body?: unknown): Promise<Res> => {
      const res = await t.app.request(t.url(`/api/platform${path}`), {
        method,
        headers: {
          ...headers,
          ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      const text = await res.text();
      return { status: res.status, body: text ? JSON.parse(text) : null };
    };
  const asKeyFor = (userId: string) =>
    platform({ ...bearer(platformKey), 'Fleetwarden-User': userId });
  const mint = async (userId: string, body: unknown = {}) => {
    const res = await platform(bearer(platformKey))('POST', `/users/${userId}/tokens`, body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body as { token: string; expiresAt: string; userId: string };
  };

  // B's resources: a user run, an admin run, an agent and a push token.
  const forB = asKeyFor(userB);
  const bRun = await forB('POST', `/instances/${b.id}/cli-runs`, { prompt: '#sim duration=600s' });
  expect(bRun.status, JSON.stringify(bRun.body)).toBe(201);
  const bAgent = await forB('POST', `/instances/${b.id}/agents`, { name: 'b-agent', prompt: 'hi' });
  expect(bAgent.status, JSON.stringify(bAgent.body)).toBe(201);
  const pushToken = 'ExponentPushToken[bbbbbbbbbbbbbbbbbbbbbb]';
  expect((await forB('PUT', `/users/${userB}/push-tokens`, { token: pushToken })).status).toBe(204);

  it("a user token for A gets 404 on every platform operation for B's resources (the whole document)", async () => {
    const { token } = await mint(userA);
    const asA = platform(bearer(token));
    const keyForA = asKeyFor(userA);
    const doc = (await (await t.app.request(t.url('/api/openapi.json'))).json()) as {
      paths: Record<string, Record<string, unknown>>;
    };
    const ids: Record<string, string> = {
      userId: userB,
      instanceId: b.id,
      runId: String(bRun.body?.id),
      // `{id}` is an instance on instance routes, an agent under /agents.
    };
    let walked = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/platform/')) continue;
      for (const method of Object.keys(ops)) {
        const concrete = path
          .replace('/platform', '')
          .replace(/\{(\w+)\}/g, (_, name: string) =>
            name === 'id'
              ? path.includes('/agents/')
                ? String(bAgent.body?.id)
                : b.id
              : (ids[name] ?? `unknown-param-${name}`),
          );
        expect(concrete, `${method} ${path}: a path parameter this test does not know`).not.toMatch(
          /unknown-param/,
        );
        for (const [who, send] of [
          ['user token for A', asA],
          ['platform key with Fleetwarden-User A', keyForA],
        ] as const) {
          const verb = method.toUpperCase();
          const res = await send(verb, concrete, verb === 'GET' ? undefined : { token: pushToken });
          expect(res.status, `${who}: ${method.toUpperCase()} ${concrete}`).toBe(404);
          expect(JSON.stringify(res.body)).not.toContain(
            userB.slice(0, 8) === '' ? 'x' : 'b-agent',
          );
        }
        walked++;
      }
    }
    expect(walked).toBeGreaterThanOrEqual(18);
    // Nothing of B's changed: the run is live, the agent and the push token are there.
    expect((await forB('GET', `/cli-runs/${bRun.body?.id}`)).body?.status).toBe('running');
    expect((await forB('GET', `/instances/${b.id}/agents/${bAgent.body?.id}`)).status).toBe(200);
  });

  it('a 404 for B is the same as for something that does not exist', async () => {
    const asA = platform(bearer((await mint(userA)).token));
    const theirs = await asA('GET', `/instances/${b.id}/status`);
    const none = await asA('GET', `/instances/${crypto.randomUUID()}/status`);
    expect(theirs.status).toBe(404);
    expect(Object.keys(theirs.body ?? {}).sort()).toEqual(Object.keys(none.body ?? {}).sort());
    expect(theirs.body?.title).toBe(none.body?.title);
  });

  it("A's token reads A's status and instances, runs and cancels A's own runs, audited with A", async () => {
    const asA = platform(bearer((await mint(userA)).token));
    expect((await asA('GET', `/instances/${a.id}/status`)).body?.instanceId).toBe(a.id);
    const mine = await asA('GET', `/users/${userA}/instances`);
    expect(((mine.body?.items ?? []) as { id: string }[]).map((i) => i.id)).toEqual([a.id]);
    const run = await asA('POST', `/instances/${a.id}/cli-runs`, { prompt: '#sim duration=600s' });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    const cancelled = await asA('POST', `/cli-runs/${run.body?.id}/cancel`);
    expect(cancelled.status).toBe(200);
    const rows = await t.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.subjectId, String(run.body?.id)));
    expect(rows.map((r) => r.action).sort()).toEqual(['cli_run.cancel', 'cli_run.start']);
    for (const r of rows) expect(r.payload).toMatchObject({ forUser: userA });
  });

  it("admins' runs are invisible to the user, even on the user's own instance", async () => {
    const adminRun = await admin('POST', `/instances/${a.id}/cli-runs`, {
      prompt: '#sim duration=600s',
    });
    expect(adminRun.status, JSON.stringify(adminRun.body)).toBe(201);
    const asA = platform(bearer((await mint(userA)).token));
    expect((await asA('GET', `/cli-runs/${adminRun.body?.id}`)).status).toBe(404);
    expect((await asA('GET', `/cli-runs/${adminRun.body?.id}/output`)).status).toBe(404);
    expect((await asA('POST', `/cli-runs/${adminRun.body?.id}/cancel`)).status).toBe(404);
    const list = await asA('GET', `/instances/${a.id}/cli-runs`);
    expect(((list.body?.items ?? []) as { id: string }[]).map((r) => r.id)).not.toContain(
      adminRun.body?.id,
    );
    // Starting while the admin's run is live: told a run is live, never which.
    const busy = await asA('POST', `/instances/${a.id}/cli-runs`, { prompt: 'x' });
    expect(busy.status).toBe(409);
    expect(JSON.stringify(busy.body)).not.toContain(String(adminRun.body?.id));
    expect((await admin('POST', `/cli-runs/${adminRun.body?.id}/cancel`)).status).toBe(200);
  });

  it('the platform key without a user gets 400 where a user is required', async () => {
    const bare = platform(bearer(platformKey));
    for (const [method, path] of [
      ['GET', `/instances/${a.id}/status`],
      ['GET', `/instances/${a.id}/cli-runs`],
      ['GET', `/cli-runs/${bRun.body?.id}`],
      ['GET', `/instances/${a.id}/agents`],
    ] as const) {
      const res = await bare(method, path);
      expect(res.status, path).toBe(400);
      expect(res.body?.type).toBe('/problems/user-required');
    }
    // Under /users/{userId} the path names the user.
    expect((await bare('GET', `/users/${userA}/instances`)).status).toBe(200);
    expect((await asKeyFor('not-a-uuid')('GET', `/instances/${a.id}/status`)).status).toBe(400);
  });

  it('tokens expire, are revoked per user, cannot mint, and are refused when altered', async () => {
    const { token, expiresAt } = await mint(userA, { ttlSeconds: 120 });
    const lifetime = new Date(expiresAt).getTime() - t.clock.now().getTime();
    // Whole seconds (JWT times), counted from the second it was minted in.
    expect(lifetime).toBeGreaterThan(119_000);
    expect(lifetime).toBeLessThanOrEqual(120_000);
    const asA = platform(bearer(token));
    expect((await asA('GET', `/instances/${a.id}/status`)).status).toBe(200);
    expect((await asA('POST', `/users/${userA}/tokens`, {})).status).toBe(403);
    const altered = `${token.slice(0, -2)}${token.endsWith('A') ? 'BB' : 'AA'}`;
    expect((await platform(bearer(altered))('GET', `/instances/${a.id}/status`)).status).toBe(401);
    t.clock.advance(121_000);
    expect((await asA('GET', `/instances/${a.id}/status`)).status).toBe(401);

    const fresh = platform(bearer((await mint(userA)).token));
    expect((await fresh('GET', `/instances/${a.id}/status`)).status).toBe(200);
    const revoke = await platform(bearer(platformKey))('POST', `/users/${userA}/tokens/revoke`);
    expect(revoke.status).toBe(204);
    expect((await fresh('GET', `/instances/${a.id}/status`)).status).toBe(401);
    expect(
      (await platform(bearer(platformKey))('POST', `/users/${crypto.randomUUID()}/tokens`, {}))
        .status,
    ).toBe(404);
  });

  it("a user token cannot take another user's push token; the platform key can move it", async () => {
    const asA = platform(bearer((await mint(userA)).token));
    expect((await asA('PUT', `/users/${userA}/push-tokens`, { token: pushToken })).status).toBe(
      404,
    );
    expect(
      (await asKeyFor(userA)('PUT', `/users/${userA}/push-tokens`, { token: pushToken })).status,
    ).toBe(204);
    const rows = await t.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'push_token.register'));
    expect(rows.find((r) => r.payload.moved === true)?.payload).toMatchObject({ forUser: userA });
    expect(JSON.stringify(rows)).not.toContain(pushToken);
  });
});
