import { and, eq, inArray } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { noticeDeliveries, scheduledActionNotices } from '../../db/schema/index.ts';
import type { Mailer } from '../../src/adapters/email/mailer.ts';
import { createResendMailer } from '../../src/adapters/email/resend.ts';
import { recoverAtStart } from '../../src/doorbells/run.ts';
import { createRequestLimiter } from '../../src/lib/request-limiter.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey, makeUser } from '../helpers/factories.ts';
import { startFakeResend } from '../helpers/fake-providers.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// Provider answers we cannot be sure of (docs/notices.md, "Unknown is a state"): the real
// Resend adapter against a local fake that behaves like Resend for a reused key (the same
// body replays the first answer, another body is 409 invalid_idempotent_request).
describe('notices: lost provider answers are resolved under the same key', async () => {
  const resend = await startFakeResend();
  afterAll(() => resend.close());
  let crashAfterSend = false;
  const t = await createTestApp({
    serve: true,
    mailer: () => {
      const real = createResendMailer({
        apiKey: resend.apiKey,
        from: 'Fleet <fleet@example.test>',
        baseUrl: resend.url,
        limiter: createRequestLimiter({ rate: { perSecond: 1000, burst: 1000 } }),
        timeoutMs: 300,
      });
      const crashing: Mailer = {
        ...real,
        async sendBatch(messages, options) {
          const out = await real.sendBatch(messages, options);
          if (crashAfterSend) {
            crashAfterSend = false;
            throw new Error('simulated crash after the provider call');
          }
          return out;
        },
      };
      return crashing;
    },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const usersWithInstances = async (n: number) =>
    Promise.all(
      Array.from({ length: n }, async () => {
        const user = await makeUser(t);
        const [inst] = await fleetOf(t, 1, { userId: user.id });
        return { user, instanceId: inst?.id ?? '' };
      }),
    );
  const schedule = async (instanceIds: string[]) => {
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: instanceIds },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'lost answers',
      leadMinutes: 1440,
      channels: ['email'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const deliveries = (actionId: string, kind: 'notice' | 'cancelled' = 'notice') =>
    t.db.db
      .select()
      .from(noticeDeliveries)
      .where(and(eq(noticeDeliveries.actionId, actionId), eq(noticeDeliveries.kind, kind)));
  /** Moves the clock a second at a time and delivers, until no delivery of the action is live. */
  const settle = async (actionId: string) => {
    for (let i = 0; i < 60; i++) {
      const rows = await deliveries(actionId);
      if (rows.every((d) => d.status === 'sent' || d.status === 'failed')) return rows;
      t.clock.advance(1000);
      await t.deliverDue();
    }
    throw new Error(`deliveries still live: ${JSON.stringify(await deliveries(actionId))}`);
  };
  const emailsTo = (email: string) => resend.sent.filter((m) => m.to === email);
  const serverError = {
    status: 503,
    body: { statusCode: 503, name: 'application_error', message: 'Service unavailable' },
  };

  it('a 5-message batch whose 503 followed the send goes again whole under its key: all sent once, ids matched to their own delivery', async () => {
    const people = await usersWithInstances(5);
    resend.fail({ ...serverError, after: true });
    const conflictsBefore = resend.conflicts;
    const requestsBefore = resend.keys.length;
    const actionId = await schedule(people.map((p) => p.instanceId));
    await t.deliverDue();
    const first = await deliveries(actionId);
    for (const d of first) expect(d.status).not.toBe('failed');
    // The first request's answer was lost. Usually it carried all five; under load two
    // dispatch workers can split them into two batches, which changes nothing below.
    const lostKey = resend.keys[requestsBefore];
    const lost = first.filter((d) => `fleetwarden-notice-${d.batchId}` === lostKey);
    expect(lost.length).toBeGreaterThan(0);
    for (const d of lost) expect(d.status).toBe('sending');
    const done = await settle(actionId);
    expect(resend.conflicts).toBe(conflictsBefore);
    for (const p of people) {
      const emails = emailsTo(p.user.email);
      expect(emails).toHaveLength(1);
      const d = done.find((x) => x.userId === p.user.id);
      expect(d).toMatchObject({ status: 'sent', providerMessageId: emails[0]?.id });
      expect(emails[0]?.tags.deliveryId).toBe(d?.id);
    }
    // The lost request went again whole under its one key: the same members, all sent.
    expect(resend.keys.filter((k) => k === lostKey).length).toBeGreaterThanOrEqual(2);
    const again = done.filter((d) => `fleetwarden-notice-${d.batchId}` === lostKey);
    expect(again.map((d) => d.id).sort()).toEqual(lost.map((d) => d.id).sort());
  });

  it('a timeout after the send is unknown, not failed; a cancel meanwhile gets its follow-up once the retry shows it was sent', async () => {
    const [p] = await usersWithInstances(1);
    if (!p) throw new Error('no user');
    resend.fail({ status: 200, body: null, after: true, holdMs: 1_000 });
    const actionId = await schedule([p.instanceId]);
    await t.deliverDue();
    const [unknown] = await deliveries(actionId);
    expect(unknown).toMatchObject({ status: 'sending', claimToken: null });
    expect(unknown?.lastError).toMatch(/unknown/i);
    expect(emailsTo(p.user.email)).toHaveLength(1);
    expect((await call('POST', `/scheduled-actions/${actionId}/cancel`)).status).toBe(200);
    const [notice] = await t.db.db
      .select()
      .from(scheduledActionNotices)
      .where(
        and(
          eq(scheduledActionNotices.actionId, actionId),
          eq(scheduledActionNotices.kind, 'notice'),
        ),
      );
    expect(notice?.status).toBe('sending');
    const done = await settle(actionId);
    expect(done[0]).toMatchObject({ status: 'sent' });
    await t.deliverDue();
    const followUps = await deliveries(actionId, 'cancelled');
    expect(followUps.map((d) => d.status)).toEqual(['sent']);
    const emails = emailsTo(p.user.email);
    expect(emails.map((e) => e.subject)).toEqual([
      expect.not.stringMatching(/^Cancelled/),
      expect.stringMatching(/^Cancelled:/),
    ]);
  });

  it('start-up recovery returns a delivery whose process died mid-send, logs no error, and the batch goes again under its key', async () => {
    const [p] = await usersWithInstances(1);
    if (!p) throw new Error('no user');
    crashAfterSend = true;
    const actionId = await schedule([p.instanceId]);
    await t.deliverDue();
    const [stuck] = await deliveries(actionId);
    expect(stuck).toMatchObject({ status: 'sending' });
    expect(stuck?.claimToken).not.toBeNull();
    const logged = t.logs.length;
    const counts = await recoverAtStart(t.deps);
    expect(counts.leasesReturned).toBeGreaterThanOrEqual(1);
    const errors = t.logs.slice(logged).filter((l) => JSON.parse(l).level === 'error');
    expect(errors).toEqual([]);
    const [returned] = await t.db.db
      .select()
      .from(noticeDeliveries)
      .where(inArray(noticeDeliveries.id, [stuck?.id ?? '']));
    expect(returned?.claimToken).toBeNull();
    await t.deliverDue();
    const [done] = await deliveries(actionId);
    expect(done).toMatchObject({ status: 'sent', batchId: stuck?.batchId });
    expect(emailsTo(p.user.email)).toHaveLength(1);
  });
});
