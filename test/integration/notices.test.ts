import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { simOutboxMessages } from '../../db/dev-schema/index.ts';
import { noticeDeliveries, scheduledActionNotices, users } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { deliver } from '../helpers/callbacks.ts';
import { bearer, makeApiKey, makeUser, ownerHeader } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog, settleScheduler } from '../helpers/fleet.ts';

describe('notices (outbox)', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const { key } = await makeApiKey(t, 'admin');
  const platform = (await makeApiKey(t, 'platform')).key;
  const call = api(t, key);
  const at = (minutes: number) => new Date(t.clock.now().getTime() + minutes * 60_000);
  const status = async (instanceId: string) => {
    const path = `/api/platform/instances/${instanceId}/status`;
    const res = await t.app.request(t.url(path), {
      headers: { ...bearer(platform), ...(await ownerHeader(t, path)) },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as {
      upcomingAction: Record<string, unknown> | null;
      timeZone: string;
    };
  };
  const outbox = async (query: string) =>
    (await call('GET', `/outbox?${query}`)).body.items as {
      recipient: string;
      channel: string;
      kind: string;
      subject: string;
      text: string;
      idempotencyKey: string;
    }[];
  const notices = async (actionId: string) =>
    t.db.db
      .select()
      .from(scheduledActionNotices)
      .where(eq(scheduledActionNotices.actionId, actionId));
  const schedule = async (ids: string[], extra: Record<string, unknown> = {}) => {
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids },
      runAt: at(120).toISOString(),
      reason: 'notices test',
      leadMinutes: 60,
      ...extra,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };

  it('a user with 3 instances gets one email naming all 3, in their zone; the banner opens with the lead window', async () => {
    const user = await makeUser(t, { displayName: 'Ada' });
    await t.db.db.update(users).set({ timeZone: 'Europe/Berlin' }).where(eq(users.id, user.id));
    const fleet = await fleetOf(t, 3, { userId: user.id });
    const token = 'ExponentPushToken[ada-phone-1]';
    const put = await t.app.request(t.url(`/api/platform/users/${user.id}/push-tokens`), {
      method: 'PUT',
      headers: { ...bearer(platform), 'Content-Type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    expect(put.status).toBe(204);
    const actionId = await schedule(
      fleet.map((f) => f.id),
      {
        subject: 'Planned maintenance',
        body: 'We restart to apply fixes.\nSave your work <b>first</b>.',
      },
    );
    expect(await notices(actionId)).toHaveLength(9);
    // Before the lead window: nothing is sent, no banner.
    await t.deliverDue();
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(0);
    expect((await status(fleet[0]?.id ?? '')).upcomingAction).toBeNull();
    // The doorbell rings at the due time, rounded up to the second (never early).
    t.clock.set(new Date(at(60).getTime() + 1000));
    await t.deliverDue();
    const email = await outbox(`actionId=${actionId}&channel=email`);
    expect(email).toHaveLength(1);
    expect(email[0]?.recipient).toBe(user.email);
    expect(email[0]?.subject).toBe('Planned maintenance');
    for (const f of fleet) {
      const [inst] = await t.db.db
        .select()
        .from(scheduledActionNotices)
        .where(eq(scheduledActionNotices.instanceId, f.id));
      expect(inst?.status).toBe('sent');
    }
    expect(email[0]?.text).toContain('Europe/Berlin');
    expect(email[0]?.text).toContain('Save your work <b>first</b>.');
    const names = await Promise.all(
      fleet.map(async (f) => (await call('GET', `/instances/${f.id}`)).body.name),
    );
    for (const name of names) expect(email[0]?.text).toContain(name);
    const push = await outbox(`actionId=${actionId}&channel=push`);
    expect(push.map((p) => p.recipient)).toEqual([token]);
    const banner = await status(fleet[1]?.id ?? '');
    expect(banner.timeZone).toBe('Europe/Berlin');
    expect(banner.upcomingAction).toMatchObject({
      actionId,
      actionType: 'restart',
      subject: 'Planned maintenance',
    });
    const summary = (await call('GET', `/scheduled-actions/${actionId}/notices`)).body;
    expect(summary.counts).toEqual(
      expect.arrayContaining([
        { channel: 'email', kind: 'notice', status: 'sent', notices: 3, messages: 1 },
        { channel: 'push', kind: 'notice', status: 'sent', notices: 3, messages: 1 },
        { channel: 'webapp', kind: 'notice', status: 'sent', notices: 3, messages: 1 },
      ]),
    );
    // The HTML part escapes the admin's body and keeps its line break.
    const [html] = await t.db.db
      .select({ html: simOutboxMessages.html })
      .from(simOutboxMessages)
      .where(
        sql`${simOutboxMessages.tags}->>'actionId' = ${actionId} and ${simOutboxMessages.channel} = 'email'`,
      );
    expect(html?.html).toContain(
      'We restart to apply fixes.<br/>Save your work &lt;b&gt;first&lt;/b&gt;.',
    );
    await call('POST', `/scheduled-actions/${actionId}/cancel`);
  });

  it('notify off: no notice rows, no message, no banner', async () => {
    const fleet = await fleetOf(t, 1);
    const actionId = await schedule([fleet[0]?.id ?? ''], { notify: false });
    expect(await notices(actionId)).toHaveLength(0);
    t.clock.set(at(61));
    await t.deliverDue();
    await deliver(t, '/api/callbacks/notices', {});
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(0);
    expect((await status(fleet[0]?.id ?? '')).upcomingAction).toBeNull();
    await call('POST', `/scheduled-actions/${actionId}/cancel`);
  });

  it('webapp unchecked: no banner even in the lead window', async () => {
    const fleet = await fleetOf(t, 1);
    const actionId = await schedule([fleet[0]?.id ?? ''], { channels: ['email'] });
    t.clock.set(at(61));
    await t.deliverDue();
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(1);
    expect((await status(fleet[0]?.id ?? '')).upcomingAction).toBeNull();
    await call('POST', `/scheduled-actions/${actionId}/cancel`);
  });

  it('cancel before the lead window: nothing is delivered, and every row says why', async () => {
    const fleet = await fleetOf(t, 2);
    const actionId = await schedule(fleet.map((f) => f.id));
    expect((await call('POST', `/scheduled-actions/${actionId}/cancel`)).status).toBe(200);
    t.clock.set(at(61));
    await t.deliverDue();
    await deliver(t, '/api/callbacks/notices', {});
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(0);
    const rows = await notices(actionId);
    expect(rows).toHaveLength(6);
    for (const r of rows)
      expect(r).toMatchObject({
        status: 'failed',
        lastError: 'cancelled before the notice was sent',
      });
    const deliveries = await t.db.db
      .select()
      .from(noticeDeliveries)
      .where(eq(noticeDeliveries.actionId, actionId));
    for (const d of deliveries) expect(d.status).toBe('failed');
    const summary = (await call('GET', `/scheduled-actions/${actionId}/notices`)).body;
    expect(summary.failed).toHaveLength(6);
    expect(summary.failed[0].error).toBe('cancelled before the notice was sent');
  });

  it('cancel after the notice: a follow-up only on the channels that got it, only for targets not started', async () => {
    const fleet = await fleetOf(t, 2);
    const runAt = at(30);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: runAt.toISOString(),
      reason: 'staged',
      leadMinutes: 120,
      rollout: { stages: [50, 100], intervalMinutes: 60 },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const actionId = res.body.id as string;
    // Both notices are due now (lead longer than the time left): email and banner go out,
    // push fails (no token registered).
    await t.deliverDue();
    expect(await outbox(`actionId=${actionId}&kind=notice`)).toHaveLength(2);
    // The first stage runs: its target is applied.
    t.clock.set(runAt);
    await t.deliverDue();
    await settleScheduler(t, { stepMs: 1000, maxRounds: 20 }).catch(() => {});
    const targets = (await call('GET', `/scheduled-actions/${actionId}/targets`)).body.items as {
      id: string;
      instanceId: string;
      status: string;
    }[];
    const applied = targets.find((x) => x.status === 'applied');
    const waiting = targets.find((x) => x.status === 'pending');
    expect(applied && waiting, JSON.stringify(targets)).toBeTruthy();
    expect((await call('POST', `/scheduled-actions/${actionId}/cancel`)).status).toBe(200);
    await t.deliverDue();
    const followUps = await outbox(`actionId=${actionId}&kind=cancelled`);
    expect(followUps).toHaveLength(1);
    expect(followUps[0]?.subject).toMatch(/^Cancelled:/);
    const rows = (await notices(actionId)).filter((n) => n.kind === 'cancelled');
    expect(rows.map((r) => [r.targetId, r.channel]).sort()).toEqual(
      [
        [waiting?.id, 'email'],
        [waiting?.id, 'webapp'],
      ].sort(),
    );
    for (const r of rows) expect(r.status).toBe('sent');
  });

  it('a paused action holds its unsent notices; resuming sends them', async () => {
    const fleet = await fleetOf(t, 2);
    const actionId = await schedule(
      fleet.map((f) => f.id),
      { channels: ['email'] },
    );
    expect((await call('POST', `/scheduled-actions/${actionId}/pause`)).status).toBe(200);
    t.clock.set(new Date(at(60).getTime() + 1000));
    await t.deliverDue();
    await deliver(t, '/api/callbacks/notices', {});
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(0);
    expect((await notices(actionId)).every((n) => n.status === 'pending')).toBe(true);
    expect((await call('POST', `/scheduled-actions/${actionId}/resume`)).status).toBe(200);
    await t.deliverDue();
    expect(await outbox(`actionId=${actionId}`)).toHaveLength(2);
    await call('POST', `/scheduled-actions/${actionId}/cancel`);
  });

  it('20 concurrent dispatch doorbells for the same due time: each message sent exactly once', async () => {
    // Earlier tests end with a cancel, whose follow-ups may still be due: send them first,
    // so the dispatches below count only this action's deliveries.
    await deliver(t, '/api/callbacks/notices', {});
    const fleet = await fleetOf(t, 30);
    const actionId = await schedule(
      fleet.map((f) => f.id),
      { leadMinutes: 600, channels: ['email', 'webapp'] },
    );
    const dueAt = (await notices(actionId))[0]?.dueAt.toISOString();
    const results = await Promise.all(
      Array.from({ length: 20 }, () => deliver(t, '/api/callbacks/notices', { actionId, dueAt })),
    );
    for (const r of results) expect(r.status).toBe(200);
    const sent = await outbox(`actionId=${actionId}&limit=200`);
    expect(sent).toHaveLength(30);
    expect(new Set(sent.map((m) => m.recipient)).size).toBe(30);
    const rows = await notices(actionId);
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
    expect(results.reduce((n, r) => n + (r.body.sent as number), 0)).toBe(60);
    // Each delivery was claimed once: a second claim would count a second attempt.
    const deliveries = await t.db.db
      .select({ attempts: noticeDeliveries.attempts })
      .from(noticeDeliveries)
      .where(eq(noticeDeliveries.actionId, actionId));
    expect(deliveries).toHaveLength(60);
    expect(deliveries.every((d) => d.attempts === 1)).toBe(true);
    await call('POST', `/scheduled-actions/${actionId}/cancel`);
  });

  it('the outbox answers a reused idempotency key as Resend does: the same messages replay their ids, other messages record nothing', async () => {
    const key = `outbox-test-${crypto.randomUUID()}`;
    const message = (id: string, to: string) => ({
      id,
      to,
      subject: 'Subject',
      text: 'text',
      html: '<p>text</p>',
      tags: { kind: 'notice' },
    });
    const a = message('a', 'a@example.test');
    const b = message('b', 'b@example.test');
    const first = await t.deps.mailer.sendBatch([a, b], { idempotencyKey: key });
    const again = await t.deps.mailer.sendBatch([a, b], { idempotencyKey: key });
    expect(again).toEqual(first);
    expect(first.get('a')).toMatchObject({ status: 'sent', providerMessageId: expect.any(String) });
    expect(first.get('a')).not.toEqual(first.get('b'));
    // Another body under the key (Resend: 409 invalid_idempotent_request): nothing recorded,
    // and no id of another message handed back.
    const swapped = await t.deps.mailer.sendBatch([b, a], { idempotencyKey: key });
    expect(swapped.get('a')).toEqual({ status: 'sent', providerMessageId: null });
    const rows = await t.db.db
      .select()
      .from(simOutboxMessages)
      .where(sql`starts_with(${simOutboxMessages.idempotencyKey}, ${key})`);
    expect(rows).toHaveLength(2);
  });
});
