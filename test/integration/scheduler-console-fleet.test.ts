import { describe, expect, it } from 'vitest';
import { follow, get, postForm } from '../helpers/factories.ts';
import { fleetOf, IMAGES, settleScheduler } from '../helpers/fleet.ts';
import {
  postFields,
  scheduleFromConsole,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

describe('scheduled actions across the console: instances, instance page, the upcoming row', async () => {
  const { t, call, admin, cookie, hx, inAnHour } = await schedulerConsoleFixture();

  it('instances list: "Apply now" schedules a version change and "Schedule for later" pre-fills the form', async () => {
    const [a, b] = await fleetOf(t, 2);
    const list = await (await get(t, '/admin/instances', cookie)).text();
    expect(list).toContain(`name="ids" value="${a?.id}" form="bulk-change"`);
    expect(list).toContain('data-select-all="ids"');
    expect(list).toContain('formaction="/admin/scheduler"');
    // The checkboxes stay in the table fragment htmx swaps.
    const fragment = await (await get(t, '/admin/instances?sort=name', cookie, hx)).text();
    expect(fragment).toContain('form="bulk-change"');

    const none = await postFields(t, '/admin/instances/apply-now', cookie, {
      targetImageTag: IMAGES.latest,
    });
    const nothing = await follow(t, none, cookie);
    expect(nothing.location).toBe('/admin/instances');
    expect(nothing.html).toContain('tick at least one instance first.');

    const res = await postFields(t, '/admin/instances/apply-now', cookie, {
      ids: [a?.id ?? '', b?.id ?? ''],
      targetImageTag: IMAGES.latest,
      reason: '',
    });
    expect(res.status).toBe(303);
    const id = /\/admin\/scheduler\/([0-9a-f-]{36})/.exec(res.headers.get('location') ?? '')?.[1];
    await settleScheduler(t);
    const action = (await call('GET', `/scheduled-actions/${id}`)).body;
    expect(action).toMatchObject({
      actionType: 'version_change',
      targetImageTag: IMAGES.latest,
      status: 'completed',
      counts: { total: 2, applied: 2 },
      reason: `Applied now from the instances list by ${admin.email}`,
    });
    expect((await call('GET', `/instances/${a?.id}?live=false`)).body.imageTag).toBe(IMAGES.latest);

    const [c, d] = await fleetOf(t, 2);
    // An instance that already has a pending action is named, and nothing is scheduled.
    const pending = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({ ids: c?.id ?? '', when: 'later', runAt: inAnHour() }),
    );
    const busy = await postFields(t, '/admin/instances/apply-now', cookie, {
      ids: [c?.id ?? '', d?.id ?? ''],
      targetImageTag: IMAGES.latest,
    });
    const refused = await follow(t, busy, cookie);
    expect(refused.location).toBe('/admin/instances');
    const cName = (await call('GET', `/instances/${c?.id}?live=false`)).body.name;
    expect(refused.html).toContain(`1 instance already has a pending scheduled action: ${cName}.`);
    expect(
      (await call('GET', `/instances/${d?.id}?live=false`)).body.upcomingScheduledAction,
    ).toBeNull();
    const query = new URLSearchParams([
      ['actionType', 'version_change'],
      ['pick', 'ids'],
      ['ids', c?.id ?? ''],
      ['ids', d?.id ?? ''],
      ['targetImageTag', IMAGES.latest],
      ['reason', ''],
    ]);
    const later = await (await get(t, `/admin/scheduler?${query}`, cookie)).text();
    expect(later).toContain(`${c?.id}\n${d?.id}</textarea>`);
    expect(later).toContain(
      `<option value="${IMAGES.latest}" selected="" title="${IMAGES.latest}">1.2.0`,
    );
    expect(later).toContain('<option value="version_change" selected="">');
    expect(later).toContain('1 instance eligible');
    expect(later).toMatch(/Already have a pending action: <strong>1<\/strong>/);
    await call('POST', `/scheduled-actions/${pending}/cancel`);
  });

  it('instance page: the upcoming scheduled action, cancelled for one instance, then the whole batch', async () => {
    const [a, b, c] = await fleetOf(t, 3);
    const idle = await (await get(t, `/admin/instances/${c?.id}`, cookie)).text();
    expect(idle).toMatch(
      /Upcoming scheduled action<\/dt><dd><div id="upcoming" class="muted">None/,
    );
    const id = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({ ids: `${a?.id}\n${b?.id}`, when: 'later', runAt: inAnHour() }),
    );
    const page = await (await get(t, `/admin/instances/${a?.id}`, cookie)).text();
    expect(page).toContain(`<a href="/admin/scheduler/${id}">Restart</a>`);
    expect(page).toContain('GMT+9');
    expect(page).toContain('Cancel for this instance');
    expect(page).toContain('Cancel whole batch (2 instances)');
    const targetPath = new RegExp(`/admin/instances/${a?.id}/scheduled/[0-9a-f-]{36}/cancel`).exec(
      page,
    )?.[0];
    // Through another instance's page, the target and the batch are not found; nothing changes.
    const foreign = targetPath?.replace(a?.id ?? '', c?.id ?? '') ?? '';
    expect((await postForm(t, foreign, cookie, {})).status).toBe(404);
    expect(
      (await postForm(t, `/admin/instances/${c?.id}/scheduled-actions/${id}/cancel`, cookie, {}))
        .status,
    ).toBe(404);
    expect((await call('GET', `/scheduled-actions/${id}`)).body).toMatchObject({
      status: 'scheduled',
      counts: { cancelled: 0 },
    });
    const one = await postForm(t, targetPath ?? '', cookie, {});
    const { location, html: after } = await follow(t, one, cookie);
    expect(location).toBe(`/admin/instances/${a?.id}`);
    expect(after).toContain('cancelled for this instance');
    expect(after).toContain('<div id="upcoming" class="muted">None');
    // Cancelling it again changes nothing: same answer, no second audit entry.
    const audited = async () =>
      (await call('GET', `/audit-log?action=scheduled_action.cancel_target&subjectId=${id}`)).body
        .items.length;
    expect(await audited()).toBe(1);
    expect((await postForm(t, targetPath ?? '', cookie, {})).status).toBe(303);
    expect(await audited()).toBe(1);

    const pageB = await (await get(t, `/admin/instances/${b?.id}`, cookie)).text();
    expect(pageB).toContain('Cancel whole batch (2 instances)');
    const batch = await postForm(
      t,
      `/admin/instances/${b?.id}/scheduled-actions/${id}/cancel`,
      cookie,
      {},
    );
    expect(batch.status).toBe(303);
    expect((await call('GET', `/scheduled-actions/${id}`)).body).toMatchObject({
      status: 'cancelled',
      counts: { cancelled: 2 },
    });
  });
});
