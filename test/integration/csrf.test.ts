import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, makeAdmin, makeApiKey } from '../helpers/factories.ts';

describe('cross-site requests to the console', async () => {
  const t = await createTestApp();

  it('rejects a cross-origin form POST even with a valid session cookie', async () => {
    const { cookie } = await adminSession(t);
    const res = await t.app.request(t.url('/admin/settings/api-keys'), {
      method: 'POST',
      headers: {
        Origin: 'https://evil.example',
        'Sec-Fetch-Site': 'cross-site',
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: cookie,
      },
      body: new URLSearchParams({ kind: 'admin', label: 'stolen' }),
    });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain('fwa_');
  });

  it('rejects a form POST without an Origin header', async () => {
    const admin = await makeAdmin(t);
    const res = await t.app.request(t.url('/admin/login'), {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ email: admin.email, password: admin.password }),
    });
    expect(res.status).toBe(403);
  });

  it('accepts the same POST from our own origin', async () => {
    const { cookie } = await adminSession(t);
    const res = await t.app.request(t.url('/admin/settings/api-keys'), {
      method: 'POST',
      headers: {
        Origin: t.origin,
        'Content-Type': 'application/x-www-form-urlencoded',
        Cookie: cookie,
      },
      body: new URLSearchParams({ kind: 'admin', label: 'mine' }),
    });
    expect(res.status).toBe(201);
  });

  it('rejects a cross-origin JSON POST with the session cookie, and changes nothing', async () => {
    const { cookie } = await adminSession(t);
    const { apiKey, key } = await makeApiKey(t, 'admin');
    const res = await t.app.request(t.url(`/admin/settings/api-keys/${apiKey.id}/revoke`), {
      method: 'POST',
      headers: {
        Origin: 'http://evil.example',
        'Content-Type': 'application/json',
        Cookie: cookie,
      },
      body: '{}',
    });
    expect(res.status).toBe(403);
    const me = await t.app.request(t.url('/api/admin/me'), { headers: bearer(key) });
    expect(me.status).toBe(200); // still valid: not revoked
  });

  it('checks every unsafe method whatever the content type (or none)', async () => {
    const { cookie } = await adminSession(t);
    for (const method of ['POST', 'PUT', 'PATCH', 'DELETE'])
      for (const contentType of [undefined, 'application/json', 'application/octet-stream']) {
        const res = await t.app.request(t.url('/admin/logout'), {
          method,
          headers: {
            Cookie: cookie,
            Origin: 'https://evil.example',
            ...(contentType ? { 'Content-Type': contentType } : {}),
          },
        });
        expect(res.status, `${method} ${contentType}`).toBe(403);
      }
  });

  it('lets Sec-Fetch-Site decide when a browser sends it; Origin otherwise', async () => {
    const { cookie } = await adminSession(t);
    const post = (headers: Record<string, string>) =>
      t.app.request(t.url('/admin/settings/api-keys'), {
        method: 'POST',
        headers: {
          'Content-Type': 'application/x-www-form-urlencoded',
          Cookie: cookie,
          ...headers,
        },
        body: new URLSearchParams({ kind: 'admin', label: 'fetch-metadata' }),
      });
    expect((await post({ 'Sec-Fetch-Site': 'same-origin' })).status).toBe(201);
    expect((await post({ 'Sec-Fetch-Site': 'same-site', Origin: t.origin })).status).toBe(403);
    expect((await post({ 'Sec-Fetch-Site': 'cross-site', Origin: t.origin })).status).toBe(403);
    expect((await post({ Origin: 'null' })).status).toBe(403);
    expect((await post({ Origin: t.origin })).status).toBe(201);
  });

  it('sends a CSP that allows no inline script', async () => {
    const res = await t.app.request('/admin/login');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(res.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
  });
});
