import { describe, expect, it } from 'vitest';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { get } from '../helpers/factories.ts';
import { fleetOf } from '../helpers/fleet.ts';
import {
  hiddenFields,
  postFields,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

// The confirmed POST schedules what the confirmation page showed, not what the form would
// mean if read again later.
describe('the scheduler confirmation binds what is scheduled', async () => {
  const { t, call, cookie } = await schedulerConsoleFixture();
  const confirmation = async (form: Record<string, string>, as = cookie) => {
    const res = await postFields(t, '/admin/scheduler/confirm', as, form);
    const html = await res.text();
    expect(res.status, html.slice(0, 500)).toBe(200);
    const fields: Record<string, string> = { ...hiddenFields(html), confirmed: 'true' };
    return fields;
  };
  const actionCount = async () =>
    (await call('GET', '/scheduled-actions?limit=200')).body.items.length as number;

  it('keeps the confirmed instant when the admin changes zone before confirming', async () => {
    const [a] = await fleetOf(t, 1);
    const at = new Date(Math.ceil((t.clock.now().getTime() + 7_200_000) / 60_000) * 60_000);
    const fields = await confirmation(
      schedulerForm({ ids: a?.id ?? '', when: 'later', runAt: zonedInputValue(at, 'Asia/Tokyo') }),
    );
    expect(fields.runAtUtc).toBe(at.toISOString());
    // Submitted from a session now showing New York time: the wall-clock field would mean
    // a time 14 hours later there.
    const done = await postFields(
      t,
      '/admin/scheduler',
      cookie.replace('tz=Asia/Tokyo', 'tz=America/New_York'),
      fields,
    );
    expect(done.status).toBe(303);
    const id = /scheduler\/([0-9a-f-]{36})/.exec(done.headers.get('location') ?? '')?.[1];
    expect((await call('GET', `/scheduled-actions/${id}`)).body.runAt).toBe(at.toISOString());
    await call('POST', `/scheduled-actions/${id}/cancel`);
  });

  it('shows the confirmation again (409) when the selection changed, scheduling nothing', async () => {
    await fleetOf(t, 2, { region: 'syd' });
    const fields = await confirmation(
      schedulerForm({ pick: 'filter', filterRegion: 'syd', reason: 'sydney restart' }),
    );
    expect(fields.expectedEligible).toBe('2');
    await fleetOf(t, 1, { region: 'syd' });
    const before = await actionCount();
    const again = await postFields(t, '/admin/scheduler', cookie, fields);
    expect(again.status).toBe(409);
    const html = await again.text();
    expect(html).toContain('The selection changed since you reviewed it: 3 eligible now, 2 before');
    expect(html).toContain('data-count="3"');
    expect(await actionCount()).toBe(before);

    const done = await postFields(t, '/admin/scheduler', cookie, {
      ...hiddenFields(html),
      confirmed: 'true',
    });
    expect(done.status).toBe(303);
    const detail = await get(t, done.headers.get('location') ?? '', cookie);
    expect(detail.status).toBe(200);
    const id = /scheduler\/([0-9a-f-]{36})/.exec(done.headers.get('location') ?? '')?.[1];
    expect((await call('GET', `/scheduled-actions/${id}`)).body.counts.total).toBe(3);
  });

  it('states the notices (lead, channels, or off) and how many at once, and warns when the lead cannot be kept', async () => {
    const [a] = await fleetOf(t, 1);
    const page = async (over: Record<string, string>) => {
      const res = await postFields(
        t,
        '/admin/scheduler/confirm',
        cookie,
        schedulerForm({ ids: a?.id ?? '', maxInFlight: '7', ...over }),
      );
      const html = await res.text();
      expect(res.status, html.slice(0, 500)).toBe(200);
      return html;
    };
    // Now, with a day's lead: the notice cannot go out a day ahead.
    const now = await page({
      noticeFields: '1',
      notify: 'on',
      leadMinutes: '1440',
      notifyEmail: 'true',
      notifyWebapp: 'true',
    });
    expect(now).toContain('data-notices="on"');
    expect(now).toContain('1,440 minutes ahead by email, in-app banner');
    expect(now).toContain('as the first stage starts.');
    expect(now).toContain('data-lead-short');
    expect(now).toContain('The lead cannot be kept');
    expect(now).toContain('data-max-in-flight="7"');
    // Three hours ahead with a one-hour lead: kept, no warning.
    const at = new Date(Math.ceil((t.clock.now().getTime() + 3 * 3_600_000) / 60_000) * 60_000);
    const later = await page({
      when: 'later',
      runAt: zonedInputValue(at, 'Asia/Tokyo'),
      noticeFields: '1',
      notify: 'on',
      leadMinutes: '60',
      notifyEmail: 'true',
    });
    expect(later).toContain('60 minutes ahead by email');
    expect(later).not.toContain('data-lead-short');
    // Off.
    const off = await page({ noticeFields: '1', notify: 'off' });
    expect(off).toContain('data-notices="off"');
  });
});
