// The deployment-wide cap's advisory lock is not held for a
// whole claim transaction, including its waits for instance rows.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

describe('one locked instance row and every other rollout', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('an unrelated action claims while another action waits for one of its instances', async () => {
    const a = await fleetOf(t, 2);
    const b = await fleetOf(t, 2);
    const schedule = async (ids: string[], reason: string) => {
      const res = await call('POST', '/scheduled-actions', {
        actionType: 'restart',
        instances: { ids },
        runAt: 'now',
        reason,
      });
      const [stage] = await t.db.db
        .select()
        .from(scheduledActionStages)
        .where(eq(scheduledActionStages.actionId, res.body.id));
      return stage?.id ?? '';
    };
    const stageA = await schedule(
      a.map((f) => f.id),
      'A',
    );
    const stageB = await schedule(
      b.map((f) => f.id),
      'B',
    );
    // Something else holds one of A's instance rows until the test lets go (a slow
    // transaction).
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    let release = () => {};
    const released = new Promise<void>((r) => {
      release = r;
    });
    const holder = t.db.db.transaction(async (tx) => {
      await tx.execute(sql`select id from instances where id = ${a[0]?.id ?? ''} for update`);
      locked();
      await released;
    });
    await isLocked;
    const runA = ringStageNow(t, stageA);
    const runB = ringStageNow(t, stageB);
    // B answers while the row is still held: it never waits for A's instance behind the
    // advisory lock A holds (if it did, it would answer only after the release below, and
    // this test would time out).
    expect((await runB).body).toMatchObject({ outcome: 'progressed', started: 2 });
    release();
    await holder;
    expect((await runA).status).toBe(200);
  }, 20_000);
});
