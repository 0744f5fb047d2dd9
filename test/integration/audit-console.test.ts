import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';
import { adminSession, get, makeAdmin, postForm } from '../helpers/factories.ts';

describe('audit log and settings in the console', async () => {
  const t = await createTestApp();

  it('records and filters what admins did', async () => {
    const { cookie, admin } = await adminSession(t);
    const other = await adminSession(t);
    await postForm(t, '/admin/settings/api-keys', cookie, {
      kind: 'admin',
      label: 'label-from-first-admin',
    });
    await postForm(t, '/admin/settings/api-keys', other.cookie, {
      kind: 'platform',
      label: 'label-from-second-admin',
    });
    const mine = await (
      await get(
        t,
        `/admin/audit?actor=${encodeURIComponent(admin.email)}&action=api_key.create`,
        cookie,
      )
    ).text();
    expect(mine).toContain('label-from-first-admin');
    expect(mine).not.toContain('label-from-second-admin');
    // Details read as a key/value list; the exact JSON is behind a toggle.
    expect(mine).toMatch(/<dl class="kv">.*<dt>label<\/dt><dd>label-from-first-admin<\/dd>/s);
    expect(mine).toContain('<details class="raw"><summary>Raw JSON</summary><pre>{');
    const all = await (await get(t, '/admin/audit?action=api_key.create', cookie)).text();
    expect(all).toContain('label-from-first-admin');
    expect(all).toContain('label-from-second-admin');
    // It does not update itself, so it says when it was read and reloads with its filters.
    expect(all).toMatch(/The log, as read at <time datetime="[^"]+Z"/);
    expect(all).toContain('<a href="/admin/audit?action=api_key.create">Reload</a> for newer.');
  });

  it('adds an admin with a one-time password shown once, who must then choose their own', async () => {
    const { cookie } = await adminSession(t);
    const res = await postForm(t, '/admin/settings/admins', cookie, {
      email: 'New.Person@Example.test',
      displayName: 'New Person',
    });
    expect(res.status).toBe(201);
    const html = await res.text();
    const password = html.match(/id="revealed-secret">([^<]+)</)?.[1]?.trim();
    expect(password).toMatch(/^[A-Za-z0-9_-]{24}$/);
    const duplicate = await postForm(t, '/admin/settings/admins', cookie, {
      email: 'new.person@example.test',
    });
    expect(duplicate.status).toBe(422);
    expect(await duplicate.text()).toContain('already exists');
    const login = await postForm(t, '/admin/login', undefined, {
      email: 'new.person@example.test',
      password: password ?? '',
    });
    expect(login.status).toBe(303);
  });

  it('disables another admin, ending their sessions, but not yourself', async () => {
    const { cookie, admin } = await adminSession(t);
    const target = await adminSession(t);
    const res = await postForm(
      t,
      `/admin/settings/admins/${target.admin.id}/disable`,
      cookie,
      {},
      { 'HX-Request': 'true' },
    );
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('disabled');
    expect((await get(t, '/admin/instances', target.cookie)).status).toBe(303);
    const self = await postForm(t, `/admin/settings/admins/${admin.id}/disable`, cookie, {});
    expect(self.status).toBe(422);
    const victim = await makeAdmin(t);
    expect(victim.id).toBeDefined();
  });

  it('saves a display zone for the admin', async () => {
    const { cookie } = await adminSession(t);
    const bad = await postForm(t, '/admin/account/time-zone', cookie, { timeZone: 'Mars/Olympus' });
    expect(bad.status).toBe(400);
    const ok = await postForm(t, '/admin/account/time-zone', cookie, {
      timeZone: 'America/New_York',
    });
    expect(ok.status).toBe(303);
    const html = await (await get(t, '/admin/settings', cookie)).text();
    expect(html).toContain('data-zone="America/New_York"');
    expect(html).toContain('data-zone-source="admin"');
    // A Berlin browser (app.js keeps its zone in the tz cookie) is offered its own zone.
    const berlin = await (await get(t, '/admin/settings', `${cookie}; tz=Europe/Berlin`)).text();
    expect(berlin).toContain('My browser&#39;s zone (Europe/Berlin)');
    expect(berlin).not.toContain('My browser&#39;s zone (America/New_York)');
    expect(berlin).toContain('data-zone="America/New_York"');
  });
});
