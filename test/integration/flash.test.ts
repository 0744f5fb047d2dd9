import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, follow, get, postForm } from '../helpers/factories.ts';

describe('one-shot flash messages', async () => {
  const t = await createTestApp();
  const { cookie } = await adminSession(t);

  it('shows a form outcome once, on the page the form redirects to', async () => {
    const res = await postForm(t, '/admin/account/time-zone', cookie, { timeZone: 'Asia/Tokyo' });
    expect(res.headers.get('location')).toBe('/admin/settings');
    const shown = await follow(t, res, cookie);
    expect(shown.html).toContain('Saved: times are shown in Asia/Tokyo.');
    // The page deletes the cookie as it shows the message.
    expect(shown.status).toBe(200);
    expect(await (await get(t, '/admin/settings', cookie)).text()).not.toContain('Saved:');
  });

  it('ignores a flash cookie it did not sign', async () => {
    const forged = `fw_flash=${encodeURIComponent(JSON.stringify({ tone: 'ok', text: 'forged' }))}`;
    const html = await (await get(t, '/admin/settings', `${cookie}; ${forged}`)).text();
    expect(html).not.toContain('forged');
  });
});
