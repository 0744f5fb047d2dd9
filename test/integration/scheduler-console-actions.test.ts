import { describe, expect, it } from 'vitest';
import { scheduledActions } from '../../db/schema/index.ts';
import { follow, get, postForm } from '../helpers/factories.ts';
import { fleetOf, flyFaults, IMAGES, settleScheduler } from '../helpers/fleet.ts';
import {
  scheduleFromConsole,
  schedulerConsoleFixture,
  schedulerForm,
} from '../helpers/scheduler-console.ts';

describe('a scheduled action in the console: progress, cancel, resume, the actions list', async () => {
  const { t, call, admin, cookie, hx, inAnHour } = await schedulerConsoleFixture();

  it('cancels a target, then the whole action, from the detail page; both audited', async () => {
    const fleet = await fleetOf(t, 3);
    const id = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({
        ids: fleet.map((f) => f.id).join('\n'),
        when: 'later',
        runAt: inAnHour(),
      }),
    );
    const page = await (await get(t, `/admin/scheduler/${id}`, cookie)).text();
    const [, targetId, name] =
      /data-target-id="([0-9a-f-]{36})" data-instance="([^"]+)"/.exec(page) ?? [];
    const cancel = await postForm(
      t,
      `/admin/scheduler/${id}/targets/${targetId}/cancel`,
      cookie,
      {},
    );
    const shown = await follow(t, cancel, cookie);
    expect(shown.location).toBe(`/admin/scheduler/${id}`);
    expect(shown.html).toContain('Target cancelled.');
    // The message is shown once: a reload does not bring it back.
    expect(await (await get(t, shown.location, cookie)).text()).not.toContain('Target cancelled.');
    const cancelled = await (
      await get(t, `/admin/scheduler/${id}?status=cancelled`, cookie, hx)
    ).text();
    expect(cancelled).toMatch(/^<div id="targets-table" data-live="true">/);
    // While the action is live the table polls itself, keeping the filter.
    expect(cancelled).toContain(`hx-get="/admin/scheduler/${id}?status=cancelled"`);
    expect(cancelled).toContain(name);
    expect(cancelled.match(/data-target-id=/g)).toHaveLength(1);
    const whole = await postForm(t, `/admin/scheduler/${id}/cancel`, cookie, {});
    const after = (await follow(t, whole, cookie)).html;
    expect(after).toContain('Action cancelled');
    expect(after).toContain('badge-muted">cancelled');
    expect(after).not.toContain('hx-trigger="every 2s"');
    expect(after).toContain('<div id="targets-table" data-live="false">');
    expect((await call('GET', `/scheduled-actions/${id}`)).body.counts).toMatchObject({
      total: 3,
      cancelled: 3,
    });
    const audit = await (await get(t, `/admin/audit?subjectId=${id}`, cookie)).text();
    for (const entry of [
      'scheduled_action.create',
      'scheduled_action.cancel_target',
      'scheduled_action.cancel',
    ])
      expect(audit).toContain(
        `<code class="action-name">${entry.replaceAll('.', '.<wbr/>')}</code>`,
      );
    expect(audit).toContain(admin.email);
  });

  it('resumes a halted action from the console', async () => {
    const fleet = await fleetOf(t, 2);
    const id = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({
        actionType: 'version_change',
        targetImageTag: IMAGES.latest,
        ids: fleet.map((f) => f.id).join(','),
        stages: '50, 100',
        failureThresholdPercent: '0',
      }),
    );
    const targets = (await call('GET', `/scheduled-actions/${id}/targets`)).body.items as {
      instanceId: string;
      stageIndex: number;
    }[];
    const canary = fleet.find((f) => f.id === targets.find((x) => x.stageIndex === 0)?.instanceId);
    await flyFaults(t, { unhealthy_machines: [canary?.machineId] });
    await settleScheduler(t);
    await flyFaults(t, null);
    const halted = await (await get(t, `/admin/scheduler/${id}`, cookie)).text();
    expect(halted).toContain('badge-warn">halted');
    expect(halted).toMatch(/halted: 1 of 1 failed/);
    expect(halted).toContain('Resume');
    const resume = await postForm(t, `/admin/scheduler/${id}/resume`, cookie, {});
    expect(resume.status).toBe(303);
    expect((await follow(t, resume, cookie)).html).toContain(
      'Resumed: the halted stages run again from now.',
    );
    await settleScheduler(t);
    expect((await call('GET', `/scheduled-actions/${id}`)).body).toMatchObject({
      status: 'completed',
      counts: { applied: 1, failed: 1 },
    });
    // Resuming what is not halted is refused with the reason on the page.
    const again = await postForm(t, `/admin/scheduler/${id}/resume`, cookie, {});
    const refused = await follow(t, again, cookie);
    expect(refused.location).toBe(`/admin/scheduler/${id}`);
    expect(refused.html).toContain('Only a paused or halted action can be resumed');
    const audit = await (await get(t, `/admin/audit?subjectId=${id}`, cookie)).text();
    expect(audit).toContain('<code class="action-name">scheduled_action.<wbr/>resume</code>');
  });

  it('resuming a paused action says it goes on where it was paused, not that halted stages run', async () => {
    const [f] = await fleetOf(t, 1);
    const id = await scheduleFromConsole(
      t,
      cookie,
      schedulerForm({ ids: f?.id ?? '', when: 'later', runAt: inAnHour() }),
    );
    const paused = await follow(
      t,
      await postForm(t, `/admin/scheduler/${id}/pause`, cookie, {}),
      cookie,
    );
    expect(paused.html).toContain('Paused:');
    const resumed = await follow(
      t,
      await postForm(t, `/admin/scheduler/${id}/resume`, cookie, {}),
      cookie,
    );
    expect(resumed.html).toContain('Resumed: the action goes on from where it was paused.');
    expect(resumed.html).not.toContain('halted stages');
    await call('POST', `/scheduled-actions/${id}/cancel`);
  });

  it('the progress fragment polls while the action runs and sends HX-Refresh once it finished', async () => {
    const [f] = await fleetOf(t, 1);
    const id = await scheduleFromConsole(t, cookie, schedulerForm({ ids: f?.id ?? '' }));
    const during = await get(t, `/admin/scheduler/${id}/progress`, cookie, hx);
    expect(during.headers.get('hx-refresh')).toBeNull();
    const duringHtml = await during.text();
    expect(duringHtml).toMatch(/^<div id="progress"/);
    expect(duringHtml).toContain('hx-trigger="every 2s"');
    await settleScheduler(t);
    const done = await get(t, `/admin/scheduler/${id}/progress`, cookie, hx);
    expect(done.headers.get('hx-refresh')).toBe('true');
    const doneHtml = await done.text();
    expect(doneHtml).toContain('badge-ok">completed');
    expect(doneHtml).not.toContain('hx-trigger');
    expect(doneHtml).toContain('<progress class="bar" value="1" max="1"');
    expect(doneHtml).toMatch(/drift \+\d/);

    // A Cancel pressed on a row that has since been applied (a stale page): back to the
    // action's page with the reason, never a `…/cancel` address or an error page.
    const page = await (await get(t, `/admin/scheduler/${id}`, cookie)).text();
    const targetId = /data-target-id="([0-9a-f-]{36})"/.exec(page)?.[1];
    const stale = await postForm(
      t,
      `/admin/scheduler/${id}/targets/${targetId}/cancel`,
      cookie,
      {},
    );
    const shown = await follow(t, stale, cookie);
    expect(shown.location).toBe(`/admin/scheduler/${id}`);
    expect(shown.status).toBe(200);
    expect(shown.html).toContain('flash flash-error');
    expect(shown.html).toContain('already finished (applied)');
  });

  it('lists actions with status, counters, progress and drift; filters and pages with keyset cursors', async () => {
    const base = Date.parse('2020-01-01T00:00:00Z');
    await t.db.db.insert(scheduledActions).values(
      Array.from({ length: 30 }, (_, i) => ({
        actionType: 'restart' as const,
        reason: `old action ${i}`,
        status: 'failed' as const,
        runAt: new Date(base + i * 60_000),
        startedAt: new Date(base + i * 60_000 + 1500),
        stagePercents: [100],
        createdBy: 'seed',
        total: 4,
        failed: 4,
      })),
    );
    const page = await (await get(t, '/admin/scheduler?status=failed', cookie)).text();
    expect(page).toContain('<option value="failed" selected="">');
    expect(page).toContain('old action 29');
    expect(page).toContain('0 applied · 0 skipped · 4 failed · 0 cancelled of 4');
    expect(page).toContain('<progress class="bar" value="4" max="4"');
    expect(page).toContain('+1.5 s');
    expect(page).not.toContain('old action 4<');
    const next = /href="(\/admin\/scheduler\?[^"]*cursor=[^"]+)" rel="next"/.exec(page)?.[1];
    expect(next).toBeTruthy();
    const second = await (await get(t, (next ?? '').replace(/&amp;/g, '&'), cookie, hx)).text();
    expect(second).toMatch(/^<div id="actions-table">/);
    expect(second).toContain('old action 4<');
    expect(second).not.toContain('old action 29');
    const oldestFirst = await (
      await get(t, '/admin/scheduler?status=failed&sort=run_at&order=asc', cookie, hx)
    ).text();
    expect(oldestFirst).toContain('old action 0<');
    expect(oldestFirst).toContain('old action 1<');
    expect(oldestFirst.indexOf('old action 0<')).toBeLessThan(oldestFirst.indexOf('old action 1<'));
  });
});
