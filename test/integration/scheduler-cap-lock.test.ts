// The deployment-wide cap's advisory lock is not held for a
// whole claim transaction, including its waits for instance rows.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
    // Something else holds one of A's instance rows for 3 s (a slow transaction).
    let locked = () => {};
    const isLocked = new Promise<void>((r) => {
      locked = r;
    });
    const holder = t.db.db.transaction(async (tx) => {
      await tx.execute(sql`select id from instances where id = ${a[0]?.id ?? ''} for update`);
      locked();
      await sleep(3000);
    });
    await isLocked;
    const runA = ringStageNow(t, stageA);
    await sleep(200);
    const started = performance.now();
    const runB = await ringStageNow(t, stageB);
    const waitedMs = Math.round(performance.now() - started);
    await holder;
    await runA;
    expect(runB.body).toMatchObject({ outcome: 'progressed', started: 2 });
    // B must not wait for A's instance lock behind the advisory lock A holds.
    expect(waitedMs).toBeLessThan(1000);
  }, 20_000);
});
