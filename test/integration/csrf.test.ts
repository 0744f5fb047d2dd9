import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, makeAdmin } from '../helpers/factories.ts';

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
