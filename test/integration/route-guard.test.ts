import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';

/** Routes anyone may call. Everything else under /admin and /api needs credentials. */
const PUBLIC = new Set([
  'GET /admin/login',
  'POST /admin/login',
  'POST /admin/logout',
  'GET /api/openapi.json',
  'GET /api/docs',
]);

describe('every registered route needs credentials', async () => {
  const t = await createTestApp();
  // Walk what the app actually registered, so a route added later is covered without
  // editing this test. Middleware entries (method ALL) are not endpoints.
  const endpoints = [
    ...new Map(
      t.app.routes
        .filter(
          (r) => r.method !== 'ALL' && (r.path.startsWith('/admin') || r.path.startsWith('/api')),
        )
        .map((r) => [`${r.method} ${r.path}`, r]),
    ).values(),
  ];

  it('finds the routes (sanity check on the walk itself)', () => {
    expect(endpoints.length).toBeGreaterThan(15);
    expect(endpoints.map((r) => `${r.method} ${r.path}`)).toContain('GET /api/admin/instances');
  });

  for (const route of endpoints) {
    const key = `${route.method} ${route.path}`;
    if (PUBLIC.has(key)) continue;
    const path = route.path
      .replace(/\/\*$/, '/anything')
      .replace(/:[A-Za-z]+(\{[^}]*\})?/g, '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11');
    it(`${key} refuses an anonymous request`, async () => {
      const res = await t.app.request(t.url(path), {
        method: route.method,
        headers: { Origin: t.origin, 'Content-Type': 'application/x-www-form-urlencoded' },
        ...(route.method === 'GET' || route.method === 'HEAD' ? {} : { body: '' }),
      });
      if (route.path.startsWith('/api/callbacks')) {
        // Only QStash may call these: no valid Upstash-Signature, no entry.
        expect(res.status).toBe(401);
        expect(await res.json()).toMatchObject({ type: '/problems/invalid-signature' });
      } else if (route.path.startsWith('/api')) {
        expect(res.status).toBe(401);
        expect(res.headers.get('content-type')).toContain('application/problem+json');
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      } else {
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toMatch(/^\/admin\/login\?next=/);
      }
    });
  }

  it('answers unknown /api paths with 401 before revealing whether they exist', async () => {
    expect((await t.app.request('/api/admin/no-such-thing')).status).toBe(401);
    expect((await t.app.request('/api/platform/no-such-thing')).status).toBe(401);
  });
});
