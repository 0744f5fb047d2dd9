import { and, eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { noticeDeliveries, scheduledActionNotices } from '../../db/schema/index.ts';
import type { Mailer } from '../../src/adapters/email/mailer.ts';
import { createTestApp } from '../helpers/app.ts';
import { makeApiKey, makeUser } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

// A cancel that lands while a notice is being sent (`sending`): the user may get the notice,
// so they get the follow-up too, once the send is recorded `sent`; a send that ends `failed`
// gets none.
describe('notices: cancel while a notice is being sent', async () => {
  /** While set, the next email request waits here after reaching the outbox's door. */
  let gate: { entered: () => void; open: Promise<void> } | null = null;
  let refuseNext = false;
  const t = await createTestApp({
    serve: true,
    mailer: (outbox) => {
      const gated: Mailer = {
        ...outbox,
        async sendBatch(messages, options) {
          const g = gate;
          if (g) {
            gate = null;
            g.entered();
            await g.open;
          }
          if (refuseNext) {
            refuseNext = false;
            return new Map(
              messages.map((m) => [
                m.id,
                {
                  status: 'refused' as const,
                  permanent: true,
                  reason: 'simulated invalid address',
                  retryAfterMs: null,
                },
              ]),
            );
          }
          return outbox.sendBatch(messages, options);
        },
      };
      return gated;
    },
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);
  const outbox = async (actionId: string, kind: string) =>
    (await call('GET', `/outbox?actionId=${actionId}&kind=${kind}`)).body.items as {
      recipient: string;
    }[];
  const scenario = async () => {
    const user = await makeUser(t);
    const [inst] = await fleetOf(t, 1, { userId: user.id });
    let entered = () => {};
    let open = () => {};
    const inside = new Promise<void>((r) => {
      entered = r;
    });
    gate = { entered, open: new Promise<void>((r) => (open = r)) };
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: [inst?.id] },
      runAt: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      reason: 'cancel while sending',
      leadMinutes: 1440,
      channels: ['email'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const actionId = res.body.id as string;
    const dispatching = t.deliverDue();
    await inside;
    const [d] = await t.db.db
      .select()
      .from(noticeDeliveries)
      .where(eq(noticeDeliveries.actionId, actionId));
    expect(d?.status).toBe('sending');
    expect((await call('POST', `/scheduled-actions/${actionId}/cancel`)).status).toBe(200);
    return {
      user,
      actionId,
      finish: async () => {
        open();
        await dispatching;
      },
    };
  };
  const notices = (actionId: string, kind: 'notice' | 'cancelled') =>
    t.db.db
      .select()
      .from(scheduledActionNotices)
      .where(
        and(eq(scheduledActionNotices.actionId, actionId), eq(scheduledActionNotices.kind, kind)),
      );

  it('the send is recorded sent: the follow-up goes out after it', async () => {
    const { user, actionId, finish } = await scenario();
    await finish();
    await t.deliverDue();
    expect((await notices(actionId, 'notice')).map((n) => n.status)).toEqual(['sent']);
    expect((await notices(actionId, 'cancelled')).map((n) => n.status)).toEqual(['sent']);
    expect((await outbox(actionId, 'notice')).map((m) => m.recipient)).toEqual([user.email]);
    expect((await outbox(actionId, 'cancelled')).map((m) => m.recipient)).toEqual([user.email]);
  });

  it('the send ends failed: no follow-up', async () => {
    refuseNext = true;
    const { actionId, finish } = await scenario();
    await finish();
    await t.deliverDue();
    expect((await notices(actionId, 'notice')).map((n) => n.status)).toEqual(['failed']);
    expect(await notices(actionId, 'cancelled')).toEqual([]);
    expect(await outbox(actionId, 'cancelled')).toEqual([]);
  });
});
