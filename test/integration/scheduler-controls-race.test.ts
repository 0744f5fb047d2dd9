// Pause/resume/cancel-target/duplicate rings racing a
// live rollout on real concurrent connections, with a real clock.
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { scheduledActionStages, scheduledActionTargets } from '../../db/schema/index.ts';
import { createTestApp, testClock } from '../helpers/app.ts';
import { ringStageNow } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('operator controls racing a live rollout', async () => {
  const t = await createTestApp({
    serve: true,
    autoDeliver: true,
    clock: testClock(new Date(), { follow: true }),
    flyTimeScale: 0.05,
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  it('answers no 500, deadlocks nothing, and ends with counters equal to the rows', async () => {
    const deadlocks = async () => {
      const r = (await t.db.db.execute(
        sql`select deadlocks::int as n from pg_stat_database where datname = current_database()`,
      )) as unknown as { rows?: { n: number }[] } & { n: number }[];
      return (r.rows ?? r)[0]?.n ?? 0;
    };
    const before = await deadlocks();
    const fleet = await fleetOf(t, 40);
    const res = await call('POST', '/scheduled-actions', {
      actionType: 'restart',
      instances: { ids: fleet.map((f) => f.id) },
      runAt: 'now',
      reason: 'stress',
      maxInFlight: 8,
      rollout: { stages: [20, 100], intervalMinutes: 0, failureThresholdPercent: 50 },
    });
    expect(res.status).toBe(201);
    const id = res.body.id as string;
    const stages = await t.db.db
      .select()
      .from(scheduledActionStages)
      .where(eq(scheduledActionStages.actionId, id))
      .orderBy(scheduledActionStages.index);
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, id));
    const statuses: number[] = [];
    const controls = (async () => {
      for (let i = 0; i < 12; i++) {
        statuses.push((await call('POST', `/scheduled-actions/${id}/pause`)).status);
        await sleep(80);
        statuses.push((await call('POST', `/scheduled-actions/${id}/resume`)).status);
        await sleep(120);
      }
    })();
    const cancels = Promise.all(
      targets
        .filter((_, i) => i % 5 === 0)
        .map(async (x, i) => {
          await sleep(30 * i);
          statuses.push((await call('POST', `/scheduled-action-targets/${x.id}/cancel`)).status);
        }),
    );
    const rings = Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        await sleep(50 * i);
        statuses.push((await ringStageNow(t, stages[i % 2]?.id ?? '')).status);
      }),
    );
    await Promise.all([controls, cancels, rings]);
    await call('POST', `/scheduled-actions/${id}/resume`);
    await expect
      .poll(async () => (await call('GET', `/scheduled-actions/${id}`)).body.status, {
        timeout: 40_000,
        interval: 200,
      })
      .toMatch(/completed|failed|cancelled|halted/);
    const action = (await call('GET', `/scheduled-actions/${id}`)).body;
    const rows = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, id));
    const by = (s: string) => rows.filter((r) => r.status === s).length;
    await sleep(600);
    const dl = (await deadlocks()) - before;
    expect(statuses.filter((s) => s >= 500)).toEqual([]);
    expect(dl).toBe(0);
    expect(action.counts).toMatchObject({
      pending: by('pending'),
      running: by('running'),
      applied: by('applied'),
      cancelled: by('cancelled'),
      skipped: by('skipped'),
    });
  }, 90_000);
});
