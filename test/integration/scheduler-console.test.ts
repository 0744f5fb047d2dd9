import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActions } from '../../db/schema/index.ts';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { formatDateTime, formatUtc } from '../../views/format.ts';
import { follow, get, postForm } from '../helpers/factories.ts';
import { fleetOf, IMAGES } from '../helpers/fleet.ts';
import {
  hiddenFields,
  postFields,
  scheduleFromConsole,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

describe('the scheduler console', async () => {
  const { t, call, cookie, hx } = await schedulerConsoleFixture();
  /** Wall-clock time in Tokyo `ms` from now, as a datetime-local value, and its instant. */
  const tokyo = (ms: number) => {
    const value = zonedInputValue(new Date(t.clock.now().getTime() + ms), 'Asia/Tokyo');
    return { value, at: new Date(`${value}:00+09:00`) };
  };
  const actionCount = async () =>
    (await t.db.db.select({ n: sql<number>`count(*)::int` }).from(scheduledActions))[0]?.n ?? 0;

  it('previews counts, exclusions and stage times in the admin zone, writing nothing', async () => {
    const fleet = await fleetOf(t, 4);
    const pin = await postForm(t, `/admin/instances/${fleet[0]?.id}/pin`, cookie, {
      imageTag: IMAGES.current,
    });
    expect(pin.status).toBe(303);
    const before = await actionCount();
    const later = tokyo(2 * 3_600_000);
    const missing = '0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11';
    const fields = schedulerForm({
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      ids: `${fleet.map((f) => f.id).join('\n')}\n${missing}`,
      when: 'later',
      runAt: later.value,
      stages: '50, 100',
      intervalMinutes: '30',
      reason: '',
    });
    const res = await postFields(t, '/admin/scheduler/preview', cookie, fields, hx);
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('3 instances eligible');
    expect(html).toMatch(/Pinned \(no override\): <strong>1<\/strong>/);
    expect(html).toMatch(/Not found: <strong>1<\/strong>/);
    expect(html).toContain('Asia/Tokyo');
    expect(html).toContain(formatDateTime(later.at, 'Asia/Tokyo'));
    expect(html).toContain(
      formatDateTime(new Date(later.at.getTime() + 30 * 60_000), 'Asia/Tokyo'),
    );
    // Two stages: 2 then 1.
    expect(html).toMatch(/<td>1<\/td><td>2<\/td>.*<td>2<\/td><td>1<\/td>/s);
    // Overriding the pin moves the pinned instance too, and says so.
    const over = await (
      await postFields(
        t,
        '/admin/scheduler/preview',
        cookie,
        { ...fields, overridePins: 'true' },
        hx,
      )
    ).text();
    expect(over).toContain('4 instances eligible');
    expect(over).toMatch(/1 instance<\/strong> is pinned to another version: its pin moves/);
    // Bad input: the message in the fragment, never an error page.
    const bad = await postFields(
      t,
      '/admin/scheduler/preview',
      cookie,
      { ...fields, stages: '50, 40' },
      hx,
    );
    expect(bad.status).toBe(200);
    const badHtml = await bad.text();
    expect(badHtml).toContain('data-preview="invalid"');
    expect(badHtml).toContain('Stages:');
    const badIds = await (
      await postFields(t, '/admin/scheduler/preview', cookie, { ...fields, ids: 'abc, def' }, hx)
    ).text();
    expect(badIds).toContain('No instances are named abc, def.');
    expect(await actionCount()).toBe(before);
  });

  it('confirms with the count, the time in the zone and in UTC and the pin overrides; only the confirmed POST schedules', async () => {
    const fleet = await fleetOf(t, 3);
    await postForm(t, `/admin/instances/${fleet[0]?.id}/pin`, cookie, { imageTag: IMAGES.old });
    const later = tokyo(3_600_000);
    const before = await actionCount();
    const res = await postFields(
      t,
      '/admin/scheduler/confirm',
      cookie,
      schedulerForm({
        actionType: 'version_change',
        targetImageTag: IMAGES.latest,
        overridePins: 'true',
        ids: fleet.map((f) => f.id).join(', '),
        when: 'later',
        runAt: later.value,
        reason: 'move to 1.2.0',
      }),
    );
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Confirm: Change 3 instances to 1.2.0');
    expect(html).toContain(`Version change to <code>${IMAGES.latest}</code>`);
    expect(html).toContain(formatDateTime(later.at, 'Asia/Tokyo'));
    expect(html).toContain('Asia/Tokyo');
    expect(html).toContain(formatUtc(later.at));
    expect(html).toContain('Override: 1 instance pinned to another version');
    expect(html).toContain('Confirm and schedule');
    expect(hiddenFields(html)).toMatchObject({ reason: 'move to 1.2.0', overridePins: 'true' });
    expect(await actionCount()).toBe(before);
    // Back: the form again, as typed.
    const back = await (
      await postFields(t, '/admin/scheduler/edit', cookie, hiddenFields(html))
    ).text();
    expect(back).toContain('value="move to 1.2.0"');
    expect(back).toContain(`value="${later.value}"`);
    expect(back).toContain(fleet.map((f) => f.id).join(', '));
    expect(back).toMatch(/name="overridePins" value="true" checked/);

    const done = await postFields(t, '/admin/scheduler', cookie, {
      ...hiddenFields(html),
      confirmed: 'true',
    });
    const { location, html: detail } = await follow(t, done, cookie);
    expect(location).toMatch(/^\/admin\/scheduler\/[0-9a-f-]{36}$/);
    const id = location.split('/').pop() ?? '';
    const action = (await call('GET', `/scheduled-actions/${id}`)).body;
    expect(action).toMatchObject({
      status: 'scheduled',
      runAt: later.at.toISOString(),
      overridePins: true,
      counts: { total: 3 },
    });
    expect(detail).toContain('Scheduled. Progress shows here');
    // Once: the page reloaded no longer says it.
    expect(await (await get(t, location, cookie)).text()).not.toContain('Scheduled. Progress');
    expect(detail).toContain('id="stages"');
    expect(detail).toContain(formatDateTime(later.at, 'Asia/Tokyo'));
    expect(detail).toContain('hx-trigger="every 2s"');
    expect(detail.match(/data-target-id=/g)).toHaveLength(3);
    expect(detail).toContain('Cancel action');
    await call('POST', `/scheduled-actions/${id}/cancel`);
  });

  it('re-renders the form naming the instances that already have a pending action (409)', async () => {
    const [a, b] = await fleetOf(t, 2);
    await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({ ids: a?.id ?? '', when: 'later', runAt: tokyo(3_600_000).value }),
    );
    const names = await call('GET', `/instances/${a?.id}?live=false`);
    const fields = schedulerForm({ ids: `${a?.id}\n${b?.id}`, reason: 'kept as typed' });
    const before = await actionCount();
    const refused = await postFields(t, '/admin/scheduler/confirm', cookie, fields);
    expect(refused.status).toBe(409);
    const html = await refused.text();
    expect(html).toContain('1 instance already has a pending scheduled action.');
    expect(html).toContain(`>${names.body.name}</a>`);
    expect(html).toContain('value="kept as typed"');
    // The domain refuses the confirmed POST the same way (e.g. a race after the confirmation).
    const direct = await postFields(t, '/admin/scheduler', cookie, {
      ...fields,
      confirmed: 'true',
    });
    expect(direct.status).toBe(409);
    expect(await direct.text()).toContain(`>${names.body.name}</a>`);
    expect(await actionCount()).toBe(before);
    // Skipping them schedules the rest.
    const id = await scheduleFromConsole(t, cookie, { ...fields, skipAlreadyScheduled: 'true' });
    expect((await call('GET', `/scheduled-actions/${id}`)).body.counts.total).toBe(1);
  });

  it('bad input gives 4xx with the reason, keeps what was typed and creates nothing', async () => {
    const [f] = await fleetOf(t, 1);
    const base = schedulerForm({ ids: f?.id ?? '' });
    const before = await actionCount();
    const cases: [Record<string, string>, number, string][] = [
      [{ ...base, reason: '' }, 400, 'Reason: say why'],
      [{ ...base, ids: 'nope' }, 400, 'No instance is named nope.'],
      [{ ...base, ids: '' }, 400, 'Paste at least one instance name or id'],
      [{ ...base, stages: '10, 5' }, 400, 'Stages:'],
      [{ ...base, when: 'later', runAt: 'tomorrow' }, 400, 'not a valid time in Asia/Tokyo'],
      [{ ...base, when: 'later', runAt: tokyo(20_000).value }, 422, 'at least 60 seconds'],
      [{ ...base, actionType: 'version_change', targetImageTag: IMAGES.disabled }, 422, 'disabled'],
      [{ ...base, actionType: 'version_change' }, 422, 'needs targetImageTag'],
    ];
    for (const [fields, status, text] of cases) {
      const res = await postFields(t, '/admin/scheduler/confirm', cookie, fields);
      const html = await res.text();
      expect(res.status, text).toBe(status);
      expect(html, text).toContain(text);
      expect(html).toContain('id="schedule-form"');
    }
    expect((await postFields(t, '/admin/scheduler', cookie, base)).status).toBe(400);
    expect(
      (await postFields(t, '/admin/scheduler', cookie, { ...base, actionType: 'reboot' })).status,
    ).toBe(400);
    expect(
      (await postFields(t, '/admin/scheduler', cookie, { ...base, reason: ' ', confirmed: 'true' }))
        .status,
    ).toBe(400);
    expect(
      (await get(t, '/admin/scheduler/0b6a2a4e-5a53-4b8f-9a49-2f4f7d0a8c11', cookie)).status,
    ).toBe(404);
    expect(await actionCount()).toBe(before);
  });

  it('opened for later from the instances list, previews the default run time it shows instead of asking for one', async () => {
    const [a] = await fleetOf(t, 1);
    const res = await get(
      t,
      `/admin/scheduler?actionType=restart&pick=ids&ids=${a?.id}&when=later`,
      cookie,
    );
    const html = await res.text();
    expect(res.status).toBe(200);
    expect(html).not.toContain('Run time: choose a date and time');
    expect(html).toContain('data-preview="ok"');
  });
});
