// The lock orders of cancelTarget and a finish that halts later stages never deadlock.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages, scheduledActionTargets } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringOperationNow, ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('cancelling a later-stage target while the canary halts the action', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('never deadlocks (finish: target → stage k → action → stage k+1; cancelTarget: stage k+1 → action)', async () => {
    // Widen the window between the finish taking the action row and halting the later
    // stages: a test-only trigger sleeps when a stage is marked completed (settleStage).
    // It changes no lock order, only timing.
    await t.db.db.execute(sql`
      create or replace function review_slow_settle() returns trigger language plpgsql as $$
      begin
        if new.status = 'completed' and old.status <> 'completed' then perform pg_sleep(1.5); end if;
        return new;
      end $$`);
    await t.db.db.execute(sql`
      create trigger review_slow_settle before update on scheduled_action_stages
      for each row execute function review_slow_settle()`);
    const deadlockCount = async () => {
      const rows = (await t.db.db.execute(
        sql`select deadlocks::int as n from pg_stat_database where datname = current_database()`,
      )) as unknown as { rows?: { n: number }[] } & { n: number }[];
      return (rows.rows ?? rows)[0]?.n ?? 0;
    };
    const before = await deadlockCount();
    try {
      const fleet = await fleetOf(t, 2);
      await flyFaults(t, {
        errors: [{ endpoint: 'update_machine', status: 400, phase: 'before', times: 1 }],
      });
      const res = await call('POST', '/scheduled-actions', {
        actionType: 'restart',
        instances: { ids: fleet.map((f) => f.id) },
        runAt: 'now',
        reason: 'deadlock',
        rollout: { stages: [50, 100], intervalMinutes: 0, failureThresholdPercent: 0 },
      });
      expect(res.status).toBe(201);
      const stages = await t.db.db
        .select()
        .from(scheduledActionStages)
        .where(eq(scheduledActionStages.actionId, res.body.id))
        .orderBy(scheduledActionStages.index);
      await ringStageNow(t, stages[0]?.id ?? '');
      const targets = await t.db.db
        .select()
        .from(scheduledActionTargets)
        .where(eq(scheduledActionTargets.actionId, res.body.id));
      const canary = targets.find((x) => x.stageId === stages[0]?.id);
      const later = targets.find((x) => x.stageId === stages[1]?.id);
      if (!canary?.operationId || !later) throw new Error('targets');
      // The canary's update is refused: its finish fails the gate and halts stage 1 ...
      const finish = ringOperationNow(t, canary.operationId, 'msg_finish');
      // It holds its locks inside the slow trigger (pg_sleep) when the cancel comes.
      await expect
        .poll(
          async () => {
            const r = (await t.db.db.execute(
              sql`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event = 'PgSleep'`,
            )) as unknown as { rows?: { n: number }[] } & { n: number }[];
            return (r.rows ?? r)[0]?.n ?? 0;
          },
          { timeout: 10_000, interval: 20 },
        )
        .toBe(1);
      // ... while an operator cancels stage 1's pending target.
      const cancel = await call('POST', `/scheduled-action-targets/${later.id}/cancel`);
      const fin = await finish;
      await sleep(600); // pg_stat_database is updated asynchronously
      const deadlocks = (await deadlockCount()) - before;
      const errors = t.logs.filter((l) => /"level":"error"/.test(l)).map((l) => l.slice(0, 300));
      expect(deadlocks).toBe(0);
      expect(errors).toEqual([]);
      expect(fin.status).toBe(200);
      // The cancel waits for the finish (it takes the stages in order first): by then the
      // halt has skipped the target, and the cancel says so (409), or it ran first (200).
      expect([200, 409]).toContain(cancel.status);
    } finally {
      await t.db.db.execute(
        sql`drop trigger if exists review_slow_settle on scheduled_action_stages`,
      );
      await flyFaults(t, null);
    }
  });
});
