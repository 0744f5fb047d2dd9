// Helpers for recovery tests that compare what Fly (the simulator) holds with what our rows
// say, and that wait for a state to be reached under a real clock.
import { and, eq, inArray, isNotNull, isNull, ne } from 'drizzle-orm';
import { expect } from 'vitest';
import { instanceDeprovisions, instances, recoveries } from '../../db/schema/index.ts';
import type { TestApp } from './app.ts';
import { type api, IMAGES, settleOperations } from './fleet.ts';

export type Provisioned = { id: string; machineId: string; volumeId: string; name: string };

/** Provisions `n` instances through the API at once and waits until every one runs. */
export async function provisionMany(
  t: TestApp,
  call: ReturnType<typeof api>,
  n: number,
  input: Record<string, unknown> = {},
): Promise<Provisioned[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const res = await call('POST', '/instances', {
      userEmail: `owner-${crypto.randomUUID().slice(0, 8)}@example.test`,
      region: 'ams',
      imageTag: IMAGES.current,
      ...input,
    });
    expect(res.status, JSON.stringify(res.body)).toBe(202);
    ids.push(res.body.instanceId);
  }
  await settleOperations(t);
  const rows = await t.db.db.select().from(instances).where(inArray(instances.id, ids));
  for (const row of rows) expect(row.status).toBe('running');
  return ids.map((id) => {
    const row = rows.find((r) => r.id === id);
    return {
      id,
      machineId: row?.machineId ?? '',
      volumeId: row?.volumeId ?? '',
      name: row?.name ?? '',
    };
  });
}

/**
 * Nothing leaked, nothing lost: the simulator's live machines are exactly the machines our
 * instances name, and its live volumes exactly the volumes they name plus the old volumes
 * kept after a recovery and the volumes a deprovision keeps for their snapshots (assumes
 * the test app's simulator holds only this file's fleet).
 */
export async function expectFlyMatchesRows(t: TestApp) {
  const app = t.deps.config.fly.appName;
  const rows = await t.db.db
    .select({ machineId: instances.machineId, volumeId: instances.volumeId })
    .from(instances)
    .where(ne(instances.status, 'destroyed'));
  const retained = await t.db.db
    .select({ volumeId: recoveries.retainedVolumeId })
    .from(recoveries)
    .where(and(isNotNull(recoveries.retainedVolumeId), isNull(recoveries.oldVolumeDeletedAt)));
  const kept = await t.db.db
    .select({ volumeId: instanceDeprovisions.volumeId })
    .from(instanceDeprovisions)
    .where(eq(instanceDeprovisions.step, 'retaining'));
  retained.push(...kept);
  const machines = (await t.deps.fly.listMachines(app)).map((m) => m.id).sort();
  const volumes = (await t.deps.fly.listVolumes(app)).map((v) => v.id).sort();
  expect(machines).toEqual(rows.map((r) => r.machineId).sort());
  expect(volumes).toEqual(
    [...new Set([...rows.map((r) => r.volumeId), ...retained.map((r) => r.volumeId)])].sort(),
  );
}

/**
 * Delivers due doorbells (and runs `each`) until `done` holds, yielding to real time between
 * rounds so backoffs measured on the real clock come due. Throws with `describe()` when it
 * does not hold within `rounds`.
 */
export async function deliverUntil(
  t: TestApp,
  done: () => Promise<boolean>,
  options: { rounds?: number; each?: () => Promise<void>; describe?: () => Promise<unknown> } = {},
) {
  for (let round = 0; round < (options.rounds ?? 400); round++) {
    await t.deliverDue();
    if (options.each) await options.each();
    if (await done()) return round;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(
    `not reached: ${JSON.stringify(options.describe ? await options.describe() : null)}`,
  );
}

/** The recoveries of the given instances. */
export async function recoveriesOf(t: TestApp, instanceIds: string[]) {
  return t.db.db.select().from(recoveries).where(inArray(recoveries.instanceId, instanceIds));
}
