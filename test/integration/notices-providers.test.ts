import { and, eq } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { noticeDeliveries, userPushTokens } from '../../db/schema/index.ts';
import type { Mailer } from '../../src/adapters/email/mailer.ts';
import { createResendMailer } from '../../src/adapters/email/resend.ts';
import { createExpoPusher } from '../../src/adapters/push/expo.ts';
import { createRequestLimiter } from '../../src/lib/request-limiter.ts';
import { createTestApp } from '../helpers/app.ts';
import { sweepNow } from '../helpers/callbacks.ts';
import { makeApiKey, makeUser } from '../helpers/factories.ts';
import { startFakeExpo, startFakeResend } from '../helpers/fake-providers.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// The real Resend and Expo adapters against local fakes of their HTTP APIs, through the
// whole path: schedule over HTTP, doorbells through the QStash emulator, real PostgreSQL.
describe('notices through the Resend and Expo adapters', async () => {
  const resend = await startFakeResend();
  const expo = await startFakeExpo();
  afterAll(async () => {
    await resend.close();
    await expo.close();
  });
  const limiter = () => createRequestLimiter({ rate: { perSecond: 1000, burst: 1000 } });
  let crashAfterSend = false;
  const t = await createTestApp({
    serve: true,
    mailer: () => {
      const real = createResendMailer({
        apiKey: resend.apiKey,
        from: 'Fleet <fleet@example.test>',
        baseUrl: resend.url,
        limiter: limiter(),
      });
      // A crash between the provider call and recording it: the process dies after Resend answered.
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
    pusher: () => createExpoPusher({ baseUrl: expo.url, limiter: limiter() }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const scheduleFor = async (instanceIds: string[], channels = ['email']) => {
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: instanceIds },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'provider test',
      leadMinutes: 1440,
      channels,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const deliveryOf = async (actionId: string, channel: 'email' | 'push') => {
    const [d] = await t.db.db
      .select()
      .from(noticeDeliveries)
      .where(and(eq(noticeDeliveries.actionId, actionId), eq(noticeDeliveries.channel, channel)));
    if (!d) throw new Error('no delivery');
    return d;
  };

  it('a crash between the provider call and mark-sent: the retry sends the same idempotency key, the user gets one email', async () => {
    const user = await makeUser(t);
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    crashAfterSend = true;
    const actionId = await scheduleFor([inst?.id ?? '']);
    await t.deliverDue();
    const stuck = await deliveryOf(actionId, 'email');
    expect(stuck.status).toBe('sending');
    expect(resend.sent.filter((m) => m.to === user.email)).toHaveLength(1);
    // The lease passes; the sweep gives the delivery back (still sending: the answer is
    // unknown) and rings a dispatch, which sends the same batch under the same key.
    t.clock.advance(t.deps.config.work.leaseMs + 1000);
    expect((await sweepNow(t)).leasesReturned).toBeGreaterThanOrEqual(1);
    await t.deliverDue();
    const done = await deliveryOf(actionId, 'email');
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    const key = `fleetwarden-notice-${done.batchId}`;
    expect(resend.keys.filter((k) => k === key)).toHaveLength(2);
    expect(resend.sent.filter((m) => m.to === user.email)).toHaveLength(1);
    expect(done.providerMessageId).toBe(resend.sent.find((m) => m.to === user.email)?.id);
  });

  it('Resend answers 503 (answer unknown) then 200: still sending, not failed, then sent once, after 2 attempts, not before Retry-After', async () => {
    const user = await makeUser(t);
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    resend.fail({
      status: 503,
      body: { statusCode: 503, name: 'application_error', message: 'Service unavailable' },
      headers: { 'retry-after': '3' },
    });
    const actionId = await scheduleFor([inst?.id ?? '']);
    const before = t.clock.now().getTime();
    await t.deliverDue();
    const retrying = await deliveryOf(actionId, 'email');
    expect(retrying).toMatchObject({ status: 'sending', attempts: 1, claimToken: null });
    expect(retrying.lastError).toContain('503');
    expect(retrying.nextAttemptAt.getTime() - before).toBeGreaterThanOrEqual(3000);
    t.clock.advance(6000);
    await t.deliverDue();
    expect(await deliveryOf(actionId, 'email')).toMatchObject({ status: 'sent', attempts: 2 });
    expect(resend.sent.filter((m) => m.to === user.email)).toHaveLength(1);
  });

  it('Resend answers 429 (not sent): back to pending, and the retry is a new batch under a new key', async () => {
    const user = await makeUser(t);
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    resend.fail({
      status: 429,
      body: { statusCode: 429, name: 'rate_limit_exceeded', message: 'Too many requests' },
      headers: { 'retry-after': '2' },
    });
    const actionId = await scheduleFor([inst?.id ?? '']);
    await t.deliverDue();
    const refused = await deliveryOf(actionId, 'email');
    expect(refused).toMatchObject({ status: 'pending', attempts: 1, batchId: null });
    // The retry is due within the first backoff ceiling (5 s), never before Retry-After.
    t.clock.advance(6000);
    await t.deliverDue();
    const done = await deliveryOf(actionId, 'email');
    expect(done).toMatchObject({ status: 'sent', attempts: 2 });
    expect(resend.sent.filter((m) => m.to === user.email)).toHaveLength(1);
    expect(resend.keys).toContain(`fleetwarden-notice-${done.batchId}`);
  });

  it('an invalid address fails at once with the provider reason', async () => {
    const user = await makeUser(t, { email: `not-an-address-${crypto.randomUUID().slice(0, 6)}` });
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    const actionId = await scheduleFor([inst?.id ?? '']);
    await t.deliverDue();
    const d = await deliveryOf(actionId, 'email');
    expect(d).toMatchObject({ status: 'failed', attempts: 1 });
    expect(d.lastError).toContain('Invalid `to` field');
    const summary = (await call('GET', `/scheduled-actions/${actionId}/notices`)).body;
    expect(summary.failed[0].error).toContain('Invalid `to` field');
  });

  it('push: DeviceNotRegistered at send or in a receipt removes the token; a live one gets the message', async () => {
    const user = await makeUser(t);
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    const live = 'ExponentPushToken[live-device]';
    const deadNow = 'ExponentPushToken[dead-at-send]';
    const deadLater = 'ExponentPushToken[dead-at-receipt]';
    expo.deadAtSend.add(deadNow);
    expo.deadAtReceipt.add(deadLater);
    await t.db.db
      .insert(userPushTokens)
      .values([live, deadNow, deadLater].map((token) => ({ token, userId: user.id })));
    const actionId = await scheduleFor([inst?.id ?? ''], ['push']);
    await t.deliverDue();
    expect(await deliveryOf(actionId, 'push')).toMatchObject({ status: 'sent' });
    const tokens = async () =>
      (await t.db.db.select().from(userPushTokens).where(eq(userPushTokens.userId, user.id)))
        .map((r) => r.token)
        .sort();
    expect(await tokens()).toEqual([deadLater, live].sort());
    t.clock.advance(16 * 60_000);
    await sweepNow(t);
    expect(await tokens()).toEqual([live]);
  });

  it('push: at most 100 messages per request', async () => {
    const fleet = await fleetOf(t, 101);
    const owners = await Promise.all(
      fleet.map(async (f) => (await call('GET', `/instances/${f.id}`)).body.user.id as string),
    );
    await t.db.db
      .insert(userPushTokens)
      .values(owners.map((userId, i) => ({ token: `ExponentPushToken[bulk-${i}]`, userId })));
    expo.batchSizes.length = 0;
    const actionId = await scheduleFor(
      fleet.map((f) => f.id),
      ['push'],
    );
    await t.deliverDue();
    expect(Math.max(...expo.batchSizes)).toBeLessThanOrEqual(100);
    expect(expo.batchSizes.reduce((a, b) => a + b, 0)).toBe(101);
    const rows = await t.db.db
      .select()
      .from(noticeDeliveries)
      .where(eq(noticeDeliveries.actionId, actionId));
    expect(rows.every((r) => r.status === 'sent')).toBe(true);
  });
});
