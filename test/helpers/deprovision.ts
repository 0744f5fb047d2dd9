import { eq, inArray } from 'drizzle-orm';
import { instanceDeprovisions } from '../../db/schema/index.ts';
import type { TestApp } from './app.ts';
import { sweepNow } from './callbacks.ts';

/**
 * Delivers doorbells until no deprovision has work left before its instance is destroyed
 * (a `retaining` one waits days for its volume), moving the test clock `stepMs` between
 * rounds (backoff and passed leases come due) and running the sweep each round (it
 * returns the lease of a handler that "died").
 */
export async function settleDeprovisions(
  t: TestApp,
  options: { stepMs?: number; maxRounds?: number; each?: () => Promise<void> } = {},
) {
  for (let round = 0; round < (options.maxRounds ?? 80); round++) {
    await t.deliverDue();
    if (options.each) await options.each();
    const open = await t.db.db
      .select({ id: instanceDeprovisions.id })
      .from(instanceDeprovisions)
      .where(
        inArray(instanceDeprovisions.step, [
          'waiting',
          'ending_work',
          'destroying_machine',
          'deleting_volume',
        ]),
      );
    if (open.length === 0) return round;
    t.clock.advance(options.stepMs ?? 5_000);
    await sweepNow(t);
    await new Promise((r) => setTimeout(r, 15));
  }
  const open = await t.db.db.select().from(instanceDeprovisions);
  throw new Error(`deprovisions did not settle: ${JSON.stringify(open.slice(0, 2))}`);
}

export async function deprovisionsOf(t: TestApp, instanceId: string) {
  return t.db.db
    .select()
    .from(instanceDeprovisions)
    .where(eq(instanceDeprovisions.instanceId, instanceId));
}
