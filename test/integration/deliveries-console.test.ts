import { Client } from '@upstash/qstash';
import { describe, expect, it } from 'vitest';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { SWEEP_SCHEDULE } from '../../src/doorbells/run.ts';
import { createTestApp } from '../helpers/app.ts';
import { startDestination } from '../helpers/destination.ts';
import { adminSession, follow, get, postForm } from '../helpers/factories.ts';

describe('Deliveries page', async () => {
  const dest = await startDestination();
  const t = await createTestApp({ serve: true, queueDestinations: [dest.base] });
  const client = new Client({
    baseUrl: `${t.origin}/__dev/qstash`,
    token: LOCAL_QSTASH.token,
    enableTelemetry: false,
  });

  it('shows recent doorbells, the DLQ, schedules and sweep runs, and retries and deletes dead letters', async () => {
    const { cookie, admin } = await adminSession(t);
    const empty = await (await get(t, '/admin/deliveries', cookie)).text();
    expect(empty).toContain('The dead-letter queue is empty');
    expect(empty).toContain('No sweep has run yet');

    await t.deps.doorbells.upsertSchedule(SWEEP_SCHEDULE);
    t.clock.advance(61_000);
    dest.reply({
      status: 489,
      headers: { 'Upstash-NonRetryable-Error': 'true' },
      body: 'no such stage',
    });
    await client.publishJSON({ url: `${dest.base}/api/callbacks/stage`, body: { stageId: 's-1' } });
    await client.publishJSON({ url: `${dest.base}/api/callbacks/stage`, body: { stageId: 's-2' } });
    await t.deliverDue();
    await t.deliverDue();

    const html = await (await get(t, '/admin/deliveries', cookie)).text();
    expect(html).toContain('/api/callbacks/sweep');
    expect(html).toContain('/api/callbacks/stage');
    expect(html).toContain('no such stage');
    expect(html).toContain('fleetwarden-sweep');
    // A snapshot, and it says so.
    expect(html).toContain('as read at <time');
    expect(html).not.toContain('No sweep has run yet');
    const failedOnly = await (await get(t, '/admin/deliveries?state=FAILED', cookie)).text();
    const recent = failedOnly.slice(
      failedOnly.indexOf('Recent doorbells'),
      failedOnly.indexOf('Dead-letter queue'),
    );
    expect(recent.match(/<tr><td><code>([^<]+)<\/code>/g)).toEqual([
      '<tr><td><code>/api/callbacks/stage</code>',
    ]);

    const dlqId = html.match(/\/admin\/deliveries\/dlq\/([^/]+)\/retry/)?.[1];
    expect(dlqId).toBeDefined();
    const retry = await postForm(t, `/admin/deliveries/dlq/${dlqId}/retry`, cookie, {});
    const shown = await follow(t, retry, cookie);
    expect(shown.location).toBe('/admin/deliveries');
    expect(shown.html).toContain('published again');
    await t.deliverDue();
    expect(dest.received.filter((r) => r.url.endsWith('/api/callbacks/stage'))).toHaveLength(3);
    const after = await (await get(t, '/admin/deliveries', cookie)).text();
    expect(after).not.toContain('published again');
    expect(after).toContain('The dead-letter queue is empty');

    dest.reply({ status: 489, headers: { 'Upstash-NonRetryable-Error': 'true' } });
    await client.publishJSON({ url: `${dest.base}/api/callbacks/stage`, body: { stageId: 's-3' } });
    await t.deliverDue();
    const again = await (await get(t, '/admin/deliveries', cookie)).text();
    const second = again.match(/\/admin\/deliveries\/dlq\/([^/]+)\/delete/)?.[1];
    expect((await postForm(t, `/admin/deliveries/dlq/${second}/delete`, cookie, {})).status).toBe(
      303,
    );
    expect(await (await get(t, '/admin/deliveries', cookie)).text()).toContain(
      'The dead-letter queue is empty',
    );

    const audit = await (
      await get(t, `/admin/audit?actor=${encodeURIComponent(admin.email)}`, cookie)
    ).text();
    expect(audit).toContain('doorbell.dlq_retry');
    expect(audit).toContain('doorbell.dlq_delete');
  });

  it('refuses a dead-letter id that is not a DLQ id, so it cannot reach another QStash path', async () => {
    const { cookie } = await adminSession(t);
    await t.deps.doorbells.upsertSchedule(SWEEP_SCHEDULE);
    const scheduleIds = async () =>
      (await t.deps.doorbellConsole.schedules()).map((s) => s.scheduleId);
    expect(await scheduleIds()).toContain(SWEEP_SCHEDULE.id);
    const attack = encodeURIComponent(`../schedules/${SWEEP_SCHEDULE.id}`);
    for (const verb of ['delete', 'retry']) {
      const res = await postForm(t, `/admin/deliveries/dlq/${attack}/${verb}`, cookie, {});
      expect(res.status).toBe(400);
    }
    expect(await scheduleIds()).toContain(SWEEP_SCHEDULE.id);
    // The adapter refuses it too, whoever calls it.
    await expect(
      t.deps.doorbellConsole.deleteDeadLetter(`../schedules/${SWEEP_SCHEDULE.id}`),
    ).rejects.toThrow(/unexpected shape/);
    expect(await scheduleIds()).toContain(SWEEP_SCHEDULE.id);
  });
});
