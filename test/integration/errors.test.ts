import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, get, makeApiKey, postForm } from '../helpers/factories.ts';

describe('errors', async () => {
  const t = await createTestApp();
  const { key } = await makeApiKey(t, 'admin');
  // A route that fails unexpectedly, registered only in this test app.
  t.app.get('/api/admin/explode', () => {
    throw new Error('connection string postgres://secret@db leaked?');
  });
  t.app.get('/admin/explode', () => {
    throw new Error('internal detail that must not leak');
  });

  it('JSON routes answer RFC 9457 problems with a request id', async () => {
    const res = await t.app.request('/api/nope', { headers: bearer(key) });
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const body = await res.json();
    expect(body).toMatchObject({ type: '/problems/not-found', title: 'Not found', status: 404 });
    expect(body.requestId).toBe(res.headers.get('x-request-id'));
  });

  it('a 500 never carries the internal message, and is logged with the request id', async () => {
    const res = await t.app.request('/api/admin/explode', { headers: bearer(key) });
    expect(res.status).toBe(500);
    const body = await res.json();
    expect(body.type).toBe('/problems/internal');
    expect(JSON.stringify(body)).not.toContain('postgres://');
    const logged = t.logs.map((l) => JSON.parse(l)).find((l) => l.event === 'http.unhandled_error');
    expect(logged?.requestId).toBe(body.requestId);
  });

  it('console errors render a page, or a flash fragment for htmx', async () => {
    const { cookie } = await adminSession(t);
    const page = await get(t, '/admin/explode', cookie);
    expect(page.status).toBe(500);
    const html = await page.text();
    expect(html).toContain('Internal error');
    expect(html).not.toContain('internal detail');
    const missing = await get(t, '/admin/no-such-page', cookie);
    expect(missing.status).toBe(404);
    expect(await missing.text()).toContain('Page not found');
    const fragment = await get(t, '/admin/instances?sort=bogus', cookie, { 'HX-Request': 'true' });
    expect(fragment.status).toBe(400);
    expect(fragment.headers.get('hx-retarget')).toBe('#flash');
    expect(await fragment.text()).toContain('sort');
  });

  it('bad console form input is a 4xx and changes nothing', async () => {
    const { cookie } = await adminSession(t);
    const res = await postForm(t, '/admin/settings/api-keys', cookie, { kind: 'root', label: '' });
    expect(res.status).toBe(400);
    const keys = await t.app.request('/api/admin/audit-log?action=api_key.create', {
      headers: bearer(key),
    });
    expect((await keys.json()).items).toHaveLength(1); // only the factory's key
  });

  it('logs one structured line per request without query strings', async () => {
    await t.app.request('/api/admin/instances?q=secret-search-words', { headers: bearer(key) });
    const line = t.logs
      .map((l) => JSON.parse(l))
      .filter((l) => l.event === 'http.request')
      .at(-1);
    expect(line).toMatchObject({ method: 'GET', path: '/api/admin/instances', status: 200 });
    expect(typeof line.ms).toBe('number');
    expect(typeof line.requestId).toBe('string');
    expect(t.logs.join('\n')).not.toContain('secret-search-words');
  });

  it('serves a description page for problem types', async () => {
    const res = await t.app.request('/problems/invalid-request');
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('Invalid request');
  });
});
