import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, bearer, get, makeApiKey } from '../helpers/factories.ts';

describe('security headers', async () => {
  const t = await createTestApp();
  const { key } = await makeApiKey(t, 'admin');
  const { cookie } = await adminSession(t);

  it('marks console pages and API answers (errors too) no-store', async () => {
    const answers = [
      await get(t, '/admin/instances', cookie),
      await get(t, '/admin/settings', cookie),
      await get(t, '/admin/login'),
      await t.app.request(t.url('/api/admin/me'), { headers: bearer(key) }),
      await t.app.request(t.url('/api/admin/instances?limit=0'), { headers: bearer(key) }),
      await t.app.request(t.url('/api/admin/me')),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 400, 401]);
    for (const res of answers) expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('keeps long caching for fingerprinted assets', async () => {
    const page = await (await get(t, '/admin/login')).text();
    const asset = page.match(/\/assets\/app-[0-9a-f]+\.css/)?.[0];
    expect(asset).toBeDefined();
    const res = await t.app.request(t.url(asset ?? ''));
    expect(res.headers.get('cache-control')).toContain('immutable');
  });

  it('sends a Permissions-Policy that turns off what the console does not use', async () => {
    const policy = (await get(t, '/admin/login')).headers.get('permissions-policy') ?? '';
    for (const feature of ['camera=()', 'microphone=()', 'geolocation=()', 'payment=()'])
      expect(policy).toContain(feature);
    expect(policy).toContain('clipboard-write=(self)');
  });

  it('sends HSTS only when the public URL is https', async () => {
    expect((await get(t, '/admin/login')).headers.get('strict-transport-security')).toBeNull();
    const https = await createTestApp({ env: { PUBLIC_URL: 'https://fleet.example.com' } });
    const res = await https.app.request('https://fleet.example.com/admin/login');
    expect(res.headers.get('strict-transport-security')).toBe(
      'max-age=63072000; includeSubDomains',
    );
  });
});
