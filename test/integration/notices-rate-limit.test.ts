import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { noticeDeliveries } from '../../db/schema/index.ts';
import { NOTICES_PATH } from '../../src/notices/model.ts';
import { createTestApp } from '../helpers/app.ts';
import { deliver, publishedFor } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// Every other test app sends at 1,000 requests a second (test/helpers/app.ts); this one
// keeps a provider's limit, so the request limiter in front of the outbox is what decides.
describe('notices at a provider request rate', async () => {
  // One email request every 10 s: the next turn after one request is always further away
  // than the step budget (1 s).
  const t = await createTestApp({
    serve: true,
    env: {
      EMAIL_REQUESTS_PER_SECOND: '0.1',
      PUSH_REQUESTS_PER_SECOND: '6',
      STEP_BUDGET_SECONDS: '1',
      NOTICES_CONCURRENCY: '4',
    },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const schedule = async (n: number) => {
    const fleet = await fleetOf(t, n);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: new Date(t.clock.now().getTime() + 120 * 60_000).toISOString(),
      reason: 'rate limit',
      leadMinutes: 600,
      channels: ['email'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id as string;
  };
  const attempts = async (actionId: string) =>
    (
      await t.db.db
        .select({ status: noticeDeliveries.status, attempts: noticeDeliveries.attempts })
        .from(noticeDeliveries)
        .where(eq(noticeDeliveries.actionId, actionId))
    ).map((d) => `${d.status}/${d.attempts}`);

  it('sends on its turn, and hands a turn further than the step budget to a doorbell instead of waiting or failing', async () => {
    const first = await schedule(5);
    // The first request goes at once and carries all five emails (one batch).
    const sent = await deliver(t, NOTICES_PATH, {}, 'msg_rate_limit_1');
    expect(sent.status).toBe(200);
    expect(sent.body).toMatchObject({ claimed: 5, sent: 5, failed: 0, retried: 0 });
    expect(await attempts(first)).toEqual(Array(5).fill('sent/1'));
    // The next turn is ~10 s away: a dispatch now claims nothing, sends nothing, and rings
    // itself for that turn; the emails wait as they were.
    const second = await schedule(3);
    const held = await deliver(t, NOTICES_PATH, {}, 'msg_rate_limit_2');
    expect(held.status).toBe(200);
    expect(held.body).toMatchObject({ claimed: 0, sent: 0, failed: 0, retried: 0 });
    const handOver = Date.parse(held.body.continueAt) - t.clock.now().getTime();
    expect(handOver).toBeGreaterThan(1000);
    expect(handOver).toBeLessThanOrEqual(10_000);
    // QStash's not-before is in whole seconds (the SDK rounds up).
    const continuation = (await publishedFor(t, NOTICES_PATH, '')).filter(
      (m) => m.notBefore?.getTime() === Math.ceil(Date.parse(held.body.continueAt) / 1000) * 1000,
    );
    expect(continuation).toHaveLength(1);
    expect(await attempts(second)).toEqual(Array(3).fill('pending/0'));
    expect((await call('GET', `/outbox?actionId=${second}&limit=50`)).body.items).toEqual([]);
  });
});
