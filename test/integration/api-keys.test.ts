import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { apiKeys } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, get, makeApiKey, postForm } from '../helpers/factories.ts';

describe('API tokens and platform keys', async () => {
  const t = await createTestApp();

  it('an admin token created in the console is shown once and works on /api/admin', async () => {
    const { cookie } = await adminSession(t);
    const res = await postForm(t, '/admin/settings/api-keys', cookie, {
      kind: 'admin',
      label: 'deploy bot',
    });
    expect(res.status).toBe(201);
    const html = await res.text();
    const token = html.match(/fwa_[A-Za-z0-9]{40}/)?.[0];
    expect(token).toBeDefined();
    const me = await t.app.request('/api/admin/me', { headers: bearer(token ?? '') });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      kind: 'admin_token',
      label: 'deploy bot',
      prefix: token?.slice(0, 12),
    });
    // Later page views show only the prefix.
    const settings = await (await get(t, '/admin/settings', cookie)).text();
    expect(settings).toContain(`${token?.slice(0, 12)}…`);
    expect(settings).not.toContain(token);
  });

  it('stores only a SHA-256 hash and never logs the token', async () => {
    const { key, apiKey } = await makeApiKey(t, 'admin');
    await t.app.request('/api/admin/me', { headers: bearer(key) });
    const [row] = await t.db.db.select().from(apiKeys).where(eq(apiKeys.id, apiKey.id));
    expect(row?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(key.slice(12));
    expect(t.logs.join('\n')).not.toContain(key.slice(12));
  });

  it('a revoked token stops working on the next request', async () => {
    const { cookie } = await adminSession(t);
    const { key, apiKey } = await makeApiKey(t, 'admin');
    expect((await t.app.request('/api/admin/me', { headers: bearer(key) })).status).toBe(200);
    const revoke = await postForm(
      t,
      `/admin/settings/api-keys/${apiKey.id}/revoke`,
      cookie,
      {},
      { 'HX-Request': 'true' },
    );
    expect(revoke.status).toBe(200);
    expect(await revoke.text()).toContain('revoked');
    const after = await t.app.request('/api/admin/me', { headers: bearer(key) });
    expect(after.status).toBe(401);
    expect(await after.json()).toMatchObject({ type: '/problems/unauthenticated', status: 401 });
    // Revoking again is a no-op.
    expect(
      (await postForm(t, `/admin/settings/api-keys/${apiKey.id}/revoke`, cookie, {})).status,
    ).toBe(303);
  });

  it('keeps the two kinds apart', async () => {
    const platform = await makeApiKey(t, 'platform');
    const admin = await makeApiKey(t, 'admin');
    expect((await t.app.request('/api/admin/me', { headers: bearer(platform.key) })).status).toBe(
      401,
    );
    const user = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';
    expect(
      (await t.app.request(`/api/platform/users/${user}/instances`, { headers: bearer(admin.key) }))
        .status,
    ).toBe(401);
    const ok = await t.app.request(`/api/platform/users/${user}/instances`, {
      headers: bearer(platform.key),
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ items: [], nextCursor: null, prevCursor: null });
  });

  it('rejects a token with the right prefix but a wrong secret', async () => {
    const { key } = await makeApiKey(t, 'admin');
    const forged = `${key.slice(0, 12)}${'x'.repeat(key.length - 12)}`;
    expect((await t.app.request('/api/admin/me', { headers: bearer(forged) })).status).toBe(401);
  });

  it('answers a malformed Authorization header with 400', async () => {
    const res = await t.app.request('/api/admin/me', { headers: { Authorization: 'Basic abc' } });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
  });

  it('writes audit entries for creating and revoking keys', async () => {
    const { cookie, admin } = await adminSession(t);
    await postForm(t, '/admin/settings/api-keys', cookie, {
      kind: 'platform',
      label: 'audited key',
    });
    const { key } = await makeApiKey(t, 'admin');
    const res = await t.app.request(
      `/api/admin/audit-log?actor=${encodeURIComponent(admin.email)}&action=api_key.create`,
      {
        headers: bearer(key),
      },
    );
    const body = await res.json();
    expect(body.items).toHaveLength(1);
    expect(body.items[0]).toMatchObject({
      action: 'api_key.create',
      actor: { type: 'admin', label: admin.email },
      payload: { label: 'audited key', kind: 'platform' },
    });
    expect(JSON.stringify(body)).not.toMatch(/fwp_[A-Za-z0-9]{40}/);
  });
});
