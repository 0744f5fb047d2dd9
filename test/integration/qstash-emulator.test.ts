import { Client, QstashError, Receiver } from '@upstash/qstash';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { simQstashMessages } from '../../db/dev-schema/index.ts';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';
import { createDevServers } from '../../src/dev-servers/index.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { createTestApp } from '../helpers/app.ts';
import { type Received, startDestination } from '../helpers/destination.ts';

// The official SDK, unchanged, against our emulator; every delivery checked with the
// official Receiver.
describe('QStash emulator through the official SDK', async () => {
  const dest = await startDestination();
  const t = await createTestApp({ serve: true, queueDestinations: [dest.base] });
  const client = new Client({
    baseUrl: `${t.origin}/__dev/qstash`,
    token: LOCAL_QSTASH.token,
    enableTelemetry: false,
  });
  const receiver = new Receiver({
    currentSigningKey: LOCAL_QSTASH.currentSigningKey,
    nextSigningKey: LOCAL_QSTASH.nextSigningKey,
  });
  const verified = async (r: Received) =>
    receiver.verify({
      signature: r.headers.get('upstash-signature') ?? '',
      body: r.body,
      url: r.url,
    });
  const deliveredTo = (path: string) =>
    dest.received.filter((r) => new URL(r.url).pathname === path);

  it('answers /v2/keys with the local signing keys and refuses a wrong token', async () => {
    const keys = await fetch(`${t.origin}/__dev/qstash/v2/keys`, {
      headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
    });
    expect(await keys.json()).toEqual({
      current: LOCAL_QSTASH.currentSigningKey,
      next: LOCAL_QSTASH.nextSigningKey,
    });
    const bad = new Client({
      baseUrl: `${t.origin}/__dev/qstash`,
      token: 'nope',
      enableTelemetry: false,
    });
    await expect(bad.publishJSON({ url: `${dest.base}/x`, body: {} })).rejects.toMatchObject({
      status: 401,
    });
  });

  it('delivers a publishJSON with the destination query, forwarded headers and a valid signature', async () => {
    const res = await client.publishJSON({
      url: `${dest.base}/hook?a=1&b=two`,
      body: { hello: 'wörld' },
      headers: { 'X-Custom': 'v1' },
      method: 'PUT',
    });
    expect(res.messageId).toMatch(/^msg_/);
    expect(await t.deliverDue()).toBeGreaterThan(0);
    const [r] = deliveredTo('/hook');
    expect(r?.method).toBe('PUT');
    expect(new URL(r?.url ?? '').search).toBe('?a=1&b=two');
    expect(r?.headers.get('x-custom')).toBe('v1');
    expect(r?.headers.get('content-type')).toBe('application/json');
    expect(r?.headers.get('upstash-message-id')).toBe(res.messageId);
    expect(r?.headers.get('upstash-retried')).toBe('0');
    expect(JSON.parse(r?.body ?? '')).toEqual({ hello: 'wörld' });
    expect(await verified(r as Received)).toBe(true);
  });

  it('holds a message until notBefore, then delivers it once', async () => {
    const notBefore = Math.ceil(t.clock.now().getTime() / 1000) + 60;
    const { messageId } = await client.publishJSON({
      url: `${dest.base}/later`,
      body: { n: 1 },
      notBefore,
    });
    const message = await client.messages.get(messageId);
    expect(message.notBefore).toBe(notBefore * 1000);
    await t.deliverDue();
    t.clock.set(new Date(notBefore * 1000 - 1000));
    await t.deliverDue();
    expect(deliveredTo('/later')).toHaveLength(0);
    t.clock.set(new Date(notBefore * 1000));
    await t.deliverDue();
    await t.deliverDue();
    expect(deliveredTo('/later')).toHaveLength(1);
  });

  it('cancels a pending message ({"cancelled":1}); a delivered one is gone', async () => {
    const { messageId } = await client.publishJSON({
      url: `${dest.base}/cancelled`,
      body: {},
      delay: 3600,
    });
    expect(await client.messages.cancel(messageId)).toEqual({ cancelled: 1 });
    await expect(client.messages.get(messageId)).rejects.toBeInstanceOf(QstashError);
    t.clock.advance(3601_000);
    await t.deliverDue();
    expect(deliveredTo('/cancelled')).toHaveLength(0);
  });

  it('deduplicates by id and by content for ten minutes', async () => {
    const first = await client.publishJSON({
      url: `${dest.base}/dedup`,
      body: { a: 1 },
      deduplicationId: 'stage-1',
    });
    const again = await client.publishJSON({
      url: `${dest.base}/dedup`,
      body: { a: 2 },
      deduplicationId: 'stage-1',
    });
    expect(again).toMatchObject({ messageId: first.messageId, deduplicated: true });
    const c1 = await client.publishJSON({
      url: `${dest.base}/dedup`,
      body: { same: true },
      contentBasedDeduplication: true,
    });
    const c2 = await client.publishJSON({
      url: `${dest.base}/dedup`,
      body: { same: true },
      contentBasedDeduplication: true,
    });
    expect(c2.messageId).toBe(c1.messageId);
    await t.deliverDue();
    expect(deliveredTo('/dedup')).toHaveLength(2);
    t.clock.advance(11 * 60_000);
    const later = await client.publishJSON({
      url: `${dest.base}/dedup`,
      body: { a: 3 },
      deduplicationId: 'stage-1',
    });
    expect(later.messageId).not.toBe(first.messageId);
  });

  it('publishes a batch with batchJSON', async () => {
    const res = await client.batchJSON([
      { url: `${dest.base}/batch?i=1`, body: { i: 1 } },
      { url: `${dest.base}/batch?i=2`, body: { i: 2 }, delay: 5 },
    ]);
    expect(res).toHaveLength(2);
    await t.deliverDue();
    expect(deliveredTo('/batch')).toHaveLength(1);
    t.clock.advance(5000);
    await t.deliverDue();
    expect(deliveredTo('/batch').map((r) => JSON.parse(r.body).i)).toEqual([1, 2]);
  });

  it("retries with QStash's backoff order, honours Retry-After, then dead-letters", async () => {
    dest.reply(
      { status: 500 },
      { status: 503, headers: { 'Retry-After': '7' } },
      { status: 500 },
      { status: 500 },
    );
    const { messageId } = await client.publishJSON({
      url: `${dest.base}/flaky`,
      body: {},
      retries: 3,
    });
    for (let i = 0; i < 4; i++) {
      await t.deliverDue();
      t.clock.advance(10 * 60_000);
    }
    const attempts = deliveredTo('/flaky');
    expect(attempts.map((r) => r.headers.get('upstash-retried'))).toEqual(['0', '1', '2', '3']);
    for (const r of attempts) expect(await verified(r)).toBe(true);
    const dlq = await client.dlq.listMessages();
    expect(dlq.messages.find((m) => m.messageId === messageId)).toMatchObject({
      responseStatus: 500,
    });
    // Retry n waits min(86400, e^(2.5n)) s, scaled by 0.001 here, unless Retry-After says otherwise.
    const events = (await client.logs({ filter: { messageId } })).logs
      .filter((e) => e.state === 'RETRY')
      .reverse();
    const waits = events.map((e) => (e.nextDeliveryTime ?? 0) - e.time);
    expect(waits[0]).toBeCloseTo(Math.exp(2.5) * 1000 * 0.001, -1);
    expect(waits[1]).toBe(7);
    expect(waits[2]).toBeCloseTo(Math.exp(7.5) * 1000 * 0.001, -1);
  });

  it('sends a 489 with Upstash-NonRetryable-Error straight to the DLQ and calls the failure callback', async () => {
    dest.reply({
      status: 489,
      headers: { 'Upstash-NonRetryable-Error': 'true' },
      body: 'bad input',
    });
    const { messageId } = await client.publishJSON({
      url: `${dest.base}/permanent`,
      body: { x: 1 },
      retries: 3,
      failureCallback: `${dest.base}/failure-callback`,
    });
    await t.deliverDue();
    await t.deliverDue();
    expect(deliveredTo('/permanent')).toHaveLength(1);
    const entry = (await client.dlq.listMessages()).messages.find((m) => m.messageId === messageId);
    expect(entry).toMatchObject({ responseStatus: 489, responseBody: 'bad input' });
    const [callback] = deliveredTo('/failure-callback');
    const payload = JSON.parse(callback?.body ?? '{}');
    expect(payload).toMatchObject({ status: 489, sourceMessageId: messageId, dlqId: entry?.dlqId });
    expect(await verified(callback as Received)).toBe(true);

    // Retry from the DLQ publishes a new message with the same body; delete removes an entry.
    const retried = await client.dlq.retry(entry?.dlqId ?? '');
    await t.deliverDue();
    expect(retried.responses[0]?.messageId).toMatch(/^msg_/);
    expect(deliveredTo('/permanent')).toHaveLength(2);
    expect((await client.dlq.listMessages()).messages.some((m) => m.dlqId === entry?.dlqId)).toBe(
      false,
    );
  });

  it('calls the success callback with the response', async () => {
    const { messageId } = await client.publishJSON({
      url: `${dest.base}/with-callback`,
      body: {},
      callback: `${dest.base}/callback`,
    });
    await t.deliverDue();
    await t.deliverDue();
    const [cb] = deliveredTo('/callback');
    expect(JSON.parse(cb?.body ?? '{}')).toMatchObject({ status: 200, sourceMessageId: messageId });
  });

  it('runs schedules with CRON_TZ, and pauses and resumes them', async () => {
    t.clock.set(new Date('2026-12-01T00:30:00Z'));
    const { scheduleId } = await client.schedules.create({
      destination: `${dest.base}/cron`,
      cron: 'CRON_TZ=Asia/Tokyo 0 9 * * *',
      body: JSON.stringify({ tick: true }),
    });
    const schedule = await client.schedules.get(scheduleId);
    expect(schedule).toMatchObject({ cron: 'CRON_TZ=Asia/Tokyo 0 9 * * *', isPaused: false });
    // 09:00 in Tokyo is 00:00 UTC: the next fire after 00:30 UTC is the next day.
    expect(schedule.nextScheduleTime).toBe(Date.parse('2026-12-02T00:00:00Z'));
    t.clock.set(new Date('2026-12-02T00:00:00Z'));
    await t.deliverDue();
    await t.deliverDue();
    const fired = deliveredTo('/cron');
    expect(fired).toHaveLength(1);
    expect(fired[0]?.headers.get('upstash-schedule-id')).toBe(scheduleId);
    await client.schedules.pause({ schedule: scheduleId });
    t.clock.set(new Date('2026-12-03T00:00:00Z'));
    await t.deliverDue();
    expect(deliveredTo('/cron')).toHaveLength(1);
    await client.schedules.resume({ schedule: scheduleId });
    await t.deliverDue();
    expect(deliveredTo('/cron')).toHaveLength(2);
    expect((await client.schedules.list()).map((s) => s.scheduleId)).toContain(scheduleId);
    await client.schedules.delete(scheduleId);
    await expect(client.schedules.get(scheduleId)).rejects.toBeInstanceOf(QstashError);
    await expect(
      client.schedules.create({
        destination: `${dest.base}/cron`,
        cron: 'CRON_TZ=Mars/Base 0 9 * * *',
      }),
    ).rejects.toMatchObject({ status: 400 });
  });

  it('keeps a delayed message across a restart and delivers it once', async () => {
    const notBefore = Math.ceil(t.clock.now().getTime() / 1000) + 30;
    await client.publishJSON({ url: `${dest.base}/restart`, body: {}, notBefore });
    // A second emulator on the same database, as after a restart of the embedded server.
    const restarted = createDevServers({
      config: t.deps.config,
      db: t.deps.db,
      log: jsonLogger({ write: () => {} }),
      qstash: { now: t.clock.now, extraDestinations: [dest.base] },
    });
    t.clock.set(new Date(notBefore * 1000));
    await Promise.all([restarted.dev.qstash?.engine.drain(), t.deliverDue()]);
    await t.deliverDue();
    expect(deliveredTo('/restart')).toHaveLength(1);
  });

  it('rejects bad publish headers with 400 and stores nothing', async () => {
    await expect(
      client.publishJSON({ url: `${dest.base}/bad`, body: {}, retryDelay: 'drop table' }),
    ).rejects.toMatchObject({ status: 400 });
    await expect(client.publishJSON({ url: 'not a url', body: {} })).rejects.toBeInstanceOf(
      QstashError,
    );
    await t.deliverDue();
    expect(deliveredTo('/bad')).toHaveLength(0);
  });
});

// The emulator's token is published, so an open destination would be a request-forgery
// proxy: it delivers to the app's own origin (and, in this file, the recording destination).
describe('QStash emulator destinations', async () => {
  const t = await createTestApp({ serve: true });
  const client = new Client({
    baseUrl: `${t.origin}/__dev/qstash`,
    token: LOCAL_QSTASH.token,
    enableTelemetry: false,
  });
  const elsewhere = await startDestination();
  const rule = /delivers only to the app's own origin/;

  it('refuses a publish, batch item, callback or schedule for another origin, naming the rule', async () => {
    for (const url of [`${elsewhere.base}/x`, 'http://169.254.169.254/latest/meta-data']) {
      const res = await fetch(`${t.origin}/__dev/qstash/v2/publish/${url}`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${LOCAL_QSTASH.token}` },
        body: '{}',
      });
      expect(res.status).toBe(400);
      expect((await res.json()).error).toMatch(rule);
    }
    const batch = await client.batchJSON([
      { url: `${elsewhere.base}/b`, body: {} },
      { url: t.url('/api/callbacks/sweep'), body: {} },
    ]);
    expect(batch[0]).toMatchObject({ error: expect.stringMatching(rule) });
    expect(batch[1]).toHaveProperty('messageId');
    await expect(
      client.publishJSON({
        url: t.url('/api/callbacks/sweep'),
        body: {},
        callback: `${elsewhere.base}/cb`,
      }),
    ).rejects.toMatchObject({ status: 400, message: expect.stringMatching(/Upstash-Callback/) });
    await expect(
      client.schedules.create({ destination: `${elsewhere.base}/cron`, cron: '* * * * *' }),
    ).rejects.toMatchObject({ status: 400 });
    await t.deliverDue();
    expect(elsewhere.received).toHaveLength(0);
  });

  it('does not send a message stored for another origin (stored before the rule)', async () => {
    const now = t.clock.now();
    await t.db.db.insert(simQstashMessages).values({
      messageId: 'msg_stored_elsewhere',
      destination: `${elsewhere.base}/old`,
      maxRetries: 0,
      notBefore: now,
      nextAttemptAt: now,
      createdAt: now,
    });
    await t.deliverDue();
    expect(elsewhere.received).toHaveLength(0);
    const [row] = await t.db.db
      .select()
      .from(simQstashMessages)
      .where(eq(simQstashMessages.messageId, 'msg_stored_elsewhere'));
    expect(row).toMatchObject({ status: 'failed', lastStatus: 400 });
  });
});
