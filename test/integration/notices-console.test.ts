import { eq } from 'drizzle-orm';
import { parse } from 'node-html-parser';
import { describe, expect, it } from 'vitest';
import { auditLog, users } from '../../db/schema/index.ts';
import { follow, get } from '../helpers/factories.ts';
import { fleetOf } from '../helpers/fleet.ts';
import {
  postFields,
  scheduleFromConsole,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

describe('notices in the console', async () => {
  const { t, call, cookie, hx, inAnHour } = await schedulerConsoleFixture();
  const notifyFields = (over: Record<string, string> = {}) => ({
    noticeFields: '1',
    notify: 'on',
    leadMinutes: '30',
    noticeSubject: 'Heads up',
    noticeBody: 'Line one\nLine <two>',
    notifyEmail: 'true',
    notifyWebapp: 'true',
    ...over,
  });

  it('the form has notify controls; the live preview renders the email in the user zone', async () => {
    const page = await (await get(t, '/admin/scheduler', cookie)).text();
    for (const name of [
      'notify',
      'leadMinutes',
      'noticeSubject',
      'noticeBody',
      'notifyEmail',
      'notifyPush',
      'notifyWebapp',
    ])
      expect(page).toContain(`name="${name}"`);
    const [inst] = await fleetOf(t, 1);
    const owner = (await call('GET', `/instances/${inst?.id}`)).body;
    await t.db.db
      .update(users)
      .set({ timeZone: 'America/New_York' })
      .where(eq(users.id, owner.user.id));
    const fields = schedulerForm({
      ids: inst?.id ?? '',
      when: 'later',
      runAt: inAnHour(),
      ...notifyFields(),
    });
    const preview = await (
      await postFields(t, '/admin/scheduler/preview', cookie, fields, hx)
    ).text();
    expect(preview).toContain('data-notice-preview="on"');
    expect(preview).toContain('Heads up');
    expect(preview).toContain('America/New_York');
    expect(preview).toContain(owner.name);
    expect(preview).toContain('Line &lt;two&gt;');
    const off = await (
      await postFields(t, '/admin/scheduler/preview', cookie, { ...fields, notify: 'off' }, hx)
    ).text();
    expect(off).toContain('data-notice-preview="off"');
  });

  it('scheduling from the console keeps the notify settings through the confirmation', async () => {
    const [inst] = await fleetOf(t, 1);
    const id = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({ ids: inst?.id ?? '', when: 'later', runAt: inAnHour(), ...notifyFields() }),
    );
    const n = (await call('GET', `/scheduled-actions/${id}/notices`)).body;
    expect(n.settings).toEqual({
      notify: true,
      leadMinutes: 30,
      subject: 'Heads up',
      body: 'Line one\nLine <two>',
      channels: ['email', 'webapp'],
    });
    const detail = await (await get(t, `/admin/scheduler/${id}`, cookie)).text();
    expect(detail).toContain('id="action-notices"');
    expect(detail).toContain('Send due notices now');
    await call('POST', `/scheduled-actions/${id}/cancel`);
    const after = await (await get(t, `/admin/scheduler/${id}`, cookie)).text();
    expect(after).toContain('cancelled before the notice was sent');
    // The failed rows name their instance, not an 8-character id.
    const name = (await call('GET', `/instances/${inst?.id}`)).body.name as string;
    expect(after).toContain(`<a href="/admin/instances/${inst?.id}">${name}</a>`);
    expect(after).not.toContain(`<code>${inst?.id.slice(0, 8)}</code>`);
  });

  it('the lead is counted in words: "1 minute ahead", never "1 minutes"', async () => {
    const [inst] = await fleetOf(t, 1);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [inst?.id] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'one minute',
      leadMinutes: 1,
      channels: ['email'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const html = await (await get(t, `/admin/scheduler/${res.body.id}`, cookie)).text();
    expect(html).toContain('1 minute ahead on Email');
    expect(html).not.toContain('1 minutes');
    await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
  });

  it('a push to a user with no device is "no device", not a failure, in the counts and the dispatch', async () => {
    const [inst] = await fleetOf(t, 1);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [inst?.id] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'no device',
      leadMinutes: 1440,
      channels: ['push'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const sent = await postFields(t, '/admin/notices/dispatch', cookie, {
      back: `/admin/scheduler/${res.body.id}`,
    });
    const { html } = await follow(t, sent, cookie);
    expect(html).toMatch(
      /Due notices sent: \d+ sent, 0 failed, 0 to retry, 1 skipped \(no device\)\./,
    );
    const push = parse(html).querySelector(
      '#action-notices tr[data-channel=push][data-kind=notice]',
    );
    expect(push?.querySelector('[data-status=failed]')?.text).toBe('0');
    expect(push?.querySelector('[data-status=skipped]')?.text).toBe('1 (1 msg)');
    expect(html).toContain('<th>no device</th>');
    expect(html).toContain('No failed notices.');
    const n = (await call('GET', `/scheduled-actions/${res.body.id}/notices`)).body;
    expect(n.failed).toEqual([]);
    expect(n.counts).toContainEqual(
      expect.objectContaining({ channel: 'push', status: 'skipped', notices: 1 }),
    );
    await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
  });

  it('"Send due notices now" is audited; the Outbox lists, filters and opens the message rendered', async () => {
    const [inst] = await fleetOf(t, 1);
    const owner = (await call('GET', `/instances/${inst?.id}`)).body;
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [inst?.id] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'outbox',
      leadMinutes: 1440,
      channels: ['email'],
      body: 'Keep <this> safe',
    });
    expect(res.status).toBe(201);
    const sent = await postFields(t, '/admin/notices/dispatch', cookie, { back: '/admin/outbox' });
    const { location, html } = await follow(t, sent, cookie);
    expect(location).toBe('/admin/outbox');
    expect(html).toContain('Due notices sent: 1 sent');
    const audit = await t.db.db
      .select()
      .from(auditLog)
      .where(eq(auditLog.action, 'notices.dispatch'));
    expect(audit.length).toBeGreaterThanOrEqual(1);
    const found = await (
      await get(
        t,
        `/admin/outbox?recipient=${encodeURIComponent(owner.user.email)}&channel=email`,
        cookie,
      )
    ).text();
    const messageId = /data-outbox-id="([0-9a-f-]{36})"/.exec(found)?.[1];
    expect(messageId).toBeTruthy();
    expect(found).toContain(owner.user.email);
    const none = await (
      await get(t, '/admin/outbox?recipient=nobody-at-all&channel=email', cookie)
    ).text();
    expect(none).toContain('No message matches.');
    const open = await (await get(t, `/admin/outbox/${messageId}`, cookie)).text();
    expect(open).toContain('As the user sees it');
    expect(open).toContain('srcdoc=');
    expect(open).toContain('Keep &lt;this&gt; safe');
    await call('POST', `/scheduled-actions/${res.body.id}/cancel`);
  });
});
