import { eq, inArray } from 'drizzle-orm';
import { instances, recoveries } from '../../db/schema/index.ts';
import { RECONCILE_PATH } from '../../src/recovery/model.ts';
import type { TestApp } from './app.ts';
import { deliver } from './callbacks.ts';

/** Rings the reconcile callback now, as its QStash schedule does every minute. */
export async function ringReconcile(t: TestApp, messageId?: string) {
  return deliver(t, RECONCILE_PATH, {}, messageId);
}

/**
 * Delivers doorbells until no recovery is pending or running, moving the test clock
 * `stepMs` between rounds (retries and backoff come due) and waiting `realMs` of real time
 * (the simulator's machines start in scaled real time). `each` runs after every round.
 */
export async function settleRecoveries(
  t: TestApp,
  options: {
    stepMs?: number;
    maxRounds?: number;
    realMs?: number;
    each?: () => Promise<void>;
  } = {},
) {
  for (let round = 0; round < (options.maxRounds ?? 80); round++) {
    await t.deliverDue();
    if (options.each) await options.each();
    const active = await t.db.db
      .select({ id: recoveries.id })
      .from(recoveries)
      .where(inArray(recoveries.status, ['pending', 'running']));
    if (active.length === 0) return round;
    t.clock.advance(options.stepMs ?? 3000);
    await new Promise((r) => setTimeout(r, options.realMs ?? 15));
  }
  const open = await t.db.db
    .select()
    .from(recoveries)
    .where(inArray(recoveries.status, ['pending', 'running']));
  throw new Error(`recoveries did not settle: ${JSON.stringify(open.slice(0, 2))}`);
}

export async function recoveriesOfInstance(t: TestApp, instanceId: string) {
  return t.db.db.select().from(recoveries).where(eq(recoveries.instanceId, instanceId));
}

export async function instanceRow(t: TestApp, id: string) {
  const [row] = await t.db.db.select().from(instances).where(eq(instances.id, id));
  if (!row) throw new Error(`no instance ${id}`);
  return row;
}
