import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import {
  adminSession,
  bearer,
  get,
  makeApiKey,
  makeManyInstances,
  postForm,
} from '../helpers/factories.ts';

// Production talks to Neon through @neondatabase/serverless over WebSocket. The same
// behaviours as the node-postgres suites, through that driver and a local proxy.
describe('through the Neon serverless driver', async () => {
  const t = await createTestApp({ driver: 'neon' });

  it('is ready: the database answers and migrations are current', async () => {
    const res = await t.app.request('/readyz');
    expect(await res.json()).toMatchObject({ status: 'ready', database: 'ok' });
  });

  it('signs in (an interactive transaction) and revokes a key', async () => {
    const { cookie } = await adminSession(t);
    expect((await get(t, '/admin/instances', cookie)).status).toBe(200);
    const { key, apiKey } = await makeApiKey(t, 'admin');
    expect((await t.app.request('/api/admin/me', { headers: bearer(key) })).status).toBe(200);
    await postForm(t, `/admin/settings/api-keys/${apiKey.id}/revoke`, cookie, {});
    expect((await t.app.request('/api/admin/me', { headers: bearer(key) })).status).toBe(401);
  });

  it('pages through instances', async () => {
    await makeManyInstances(t, 120);
    const { key } = await makeApiKey(t, 'admin');
    const first = await (
      await t.app.request('/api/admin/instances?limit=100', { headers: bearer(key) })
    ).json();
    const second = await (
      await t.app.request(`/api/admin/instances?limit=100&cursor=${first.nextCursor}`, {
        headers: bearer(key),
      })
    ).json();
    expect(first.total).toBe(120);
    expect(new Set([...first.items, ...second.items].map((i: { id: string }) => i.id)).size).toBe(
      120,
    );
  });
});
