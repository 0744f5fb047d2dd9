// The work-unit engine (src/lib/work) on its own, against real PostgreSQL: claims race on
// real concurrent connections, leases pass on the real clock, the sweep rings what a lost
// doorbell left. Its units are instance operations (any claimable table would do).
import { eq, inArray } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceOperations, instances, users } from '../../db/schema/index.ts';
import type { Ring } from '../../src/adapters/queue/doorbells.ts';
import type { Deps } from '../../src/deps.ts';
import { systemClock } from '../../src/lib/clock.ts';
import {
  ClaimLost,
  claimUnit,
  handBack,
  later,
  leaseKeeper,
  returnAllLeases,
  returnExpiredLeases,
  sweeperOf,
  workUnits,
  writeHeld,
} from '../../src/lib/work/index.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/db.ts';

let db: TestDatabase;
let userId: string;

const units = workUnits({
  name: 'test-units',
  table: instanceOperations,
  status: instanceOperations.status,
  live: ['pending', 'running'],
  dueAt: instanceOperations.nextCheckAt,
  graceMs: 30_000,
  ringPer: instanceOperations.instanceId,
  doorbells: (rows, purpose): Ring[] =>
    rows.map((r) => ({ path: '/t', body: { id: r.id }, deduplicationId: `${r.id}-${purpose}` })),
  lease: { set: (now, why) => ({ updatedAt: now, lastNote: `returned: ${why}` }) },
});

beforeAll(async () => {
  db = await createTestDatabase({ maxConnections: 25 });
  const [user] = await db.db
    .insert(users)
    .values({ email: `work-${crypto.randomUUID()}@example.test` })
    .returning();
  if (!user) throw new Error('no user');
  userId = user.id;
});
afterAll(async () => db.drop());

/** A unit on its own instance (one active operation per instance), due at `dueAt`. */
async function unit(over: Partial<typeof instanceOperations.$inferInsert> = {}) {
  const name = `i-${crypto.randomUUID().slice(0, 8)}`;
  const [instance] = await db.db
    .insert(instances)
    .values({ userId, name, appName: 'a', machineId: name, region: 'ams', status: 'running' })
    .returning();
  if (!instance) throw new Error('no instance');
  const [row] = await db.db
    .insert(instanceOperations)
    .values({
      instanceId: instance.id,
      kind: 'restart',
      requestedBy: 'test',
      deadlineAt: later(new Date(), 600_000),
      nextCheckAt: new Date(Date.now() - 1000),
      ...over,
    })
    .returning();
  if (!row) throw new Error('no unit');
  return row;
}

const read = async (id: string) =>
  (await db.db.select().from(instanceOperations).where(eq(instanceOperations.id, id)))[0];

describe('work units: claim', () => {
  it('lets exactly one of 20 concurrent claims (separate connections) take a unit', async () => {
    const u = await unit();
    const now = new Date();
    const claims = await Promise.all(
      Array.from({ length: 20 }, () =>
        claimUnit(db.db, units, u.id, { now, leaseUntil: later(now, 60_000) }),
      ),
    );
    const won = claims.filter((c) => c !== null);
    expect(won).toHaveLength(1);
    expect(won[0]?.attempts).toBe(1);
    expect((await read(u.id))?.claimToken).toBe(won[0]?.claimToken);
  });

  it('does not claim a unit that is not due, is held, or is no longer live', async () => {
    const now = new Date();
    const early = await unit({ nextCheckAt: later(now, 60_000) });
    expect(await claimUnit(db.db, units, early.id, { now, leaseUntil: later(now, 1000) })).toBe(
      null,
    );
    const held = await unit();
    expect(
      await claimUnit(db.db, units, held.id, { now, leaseUntil: later(now, 60_000) }),
    ).not.toBe(null);
    expect(await claimUnit(db.db, units, held.id, { now, leaseUntil: later(now, 60_000) })).toBe(
      null,
    );
    const done = await unit({ status: 'succeeded' });
    expect(await claimUnit(db.db, units, done.id, { now, leaseUntil: later(now, 1000) })).toBe(
      null,
    );
  });
});

describe('work units: guarded writes and lease return', () => {
  it("refuses every write of a holder whose lease the sweep returned, and keeps the new holder's", async () => {
    const u = await unit();
    const t0 = new Date();
    const first = await claimUnit(db.db, units, u.id, { now: t0, leaseUntil: later(t0, 50) });
    if (!first) throw new Error('not claimed');
    const t1 = later(t0, 100);
    expect(await returnExpiredLeases(db.db, units, t1)).toContain(u.id);
    const returned = await read(u.id);
    expect(returned?.claimToken).toBe(null);
    expect(returned?.lastNote).toBe('returned: expired');
    const second = await claimUnit(db.db, units, u.id, {
      now: t1,
      leaseUntil: later(t1, 60_000),
    });
    if (!second) throw new Error('not reclaimed');
    await expect(writeHeld(db.db, units, first, { lastNote: 'stale' })).rejects.toBeInstanceOf(
      ClaimLost,
    );
    await expect(handBack(db.db, units, first, t1)).rejects.toBeInstanceOf(ClaimLost);
    const kept = await handBack(db.db, units, second, later(t1, 5000), { lastNote: 'mine' });
    expect(kept.lastNote).toBe('mine');
    expect(kept.claimToken).toBe(null);
    expect(kept.nextCheckAt.getTime()).toBe(later(t1, 5000).getTime());
  });

  it('at start-up returns every held lease, live or passed, and only those', async () => {
    const now = new Date();
    const live = await unit();
    const idle = await unit();
    await claimUnit(db.db, units, live.id, { now, leaseUntil: later(now, 3_600_000) });
    const ids = await returnAllLeases(db.db, units, now);
    expect(ids).toContain(live.id);
    expect(ids).not.toContain(idle.id);
    expect((await read(live.id))?.lastNote).toBe('returned: restart');
  });
});

describe('work units: the lease keeper (real clock)', () => {
  it('renews ahead of each call while the holder lives, and stops a holder that lost the unit', async () => {
    const u = await unit();
    const now = new Date();
    const claim = await claimUnit(db.db, units, u.id, { now, leaseUntil: later(now, 400) });
    if (!claim) throw new Error('not claimed');
    const calls: string[] = [];
    const client = {
      async ping(tag: string) {
        calls.push(tag);
        return tag;
      },
    };
    const keeper = leaseKeeper({
      db: db.db,
      units,
      claim,
      clock: systemClock,
      leaseMs: 400,
      needMs: 300,
    });
    const guarded = keeper.guard(client);
    // 400 ms lease, renewed whenever less than 300 ms is left: after 3 calls spread over
    // more than the first lease, the lease is still in the future.
    const untilLeaseRunsShort = async () => {
      const [row] = await db.db
        .select({ leaseUntil: instanceOperations.leaseUntil })
        .from(instanceOperations)
        .where(eq(instanceOperations.id, u.id));
      const left = (row?.leaseUntil?.getTime() ?? 0) - Date.now();
      await new Promise((r) => setTimeout(r, Math.max(0, left - 300 + 20)));
    };
    for (const tag of ['a', 'b', 'c']) {
      await guarded.ping(tag);
      await untilLeaseRunsShort();
    }
    const renewed = await read(u.id);
    expect(renewed?.leaseUntil?.getTime()).toBeGreaterThan(Date.now());
    expect(renewed?.claimToken).toBe(claim.claimToken);
    // Another process returns the lease (as if it had passed) and claims the unit.
    await db.db
      .update(instanceOperations)
      .set({ claimToken: null, leaseUntil: null })
      .where(eq(instanceOperations.id, u.id));
    const other = await claimUnit(db.db, units, u.id, {
      now: new Date(),
      leaseUntil: later(new Date(), 60_000),
    });
    expect(other).not.toBe(null);
    // The old holder's next call must renew (its lease ran short) and is refused.
    await expect(guarded.ping('d')).rejects.toBeInstanceOf(ClaimLost);
    expect(calls).toEqual(['a', 'b', 'c']);
  });
});

describe('work units: the sweep', () => {
  it('rings overdue units once per group, never a held one, and counts a failed publish as not rung', async () => {
    const now = new Date();
    const overdue = await unit({ nextCheckAt: new Date(now.getTime() - 60_000) });
    const recent = await unit({ nextCheckAt: new Date(now.getTime() - 1000) });
    const held = await unit({ nextCheckAt: new Date(now.getTime() - 60_000) });
    await claimUnit(db.db, units, held.id, { now, leaseUntil: later(now, 60_000) });
    const rung: Ring[] = [];
    let fail = false;
    const warnings: string[] = [];
    const deps = {
      db: db.db,
      doorbells: {
        async ringMany(items: Ring[]) {
          if (fail) throw new Error('publish failed');
          rung.push(...items);
          return items.map(() => 'm');
        },
      },
      log: { warn: (event: string) => warnings.push(event) },
    } as unknown as Deps;
    const sweeper = sweeperOf(units);
    const counts = await sweeper.sweep(deps, now);
    const ids = rung.map((r) => r.body.id);
    expect(ids).toContain(overdue.id);
    expect(ids).not.toContain(recent.id);
    expect(ids).not.toContain(held.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(counts.rerung).toBe(counts.found);
    fail = true;
    const failed = await sweeper.sweep(deps, now);
    expect(failed.found).toBeGreaterThan(0);
    expect(failed.rerung).toBe(0);
    expect(warnings).toContain('work.sweep_ring_failed');
    // At start-up everything due now is rung, the held unit included (its lease returned).
    fail = false;
    rung.length = 0;
    const started = await sweeper.recoverAtStart?.(deps, now);
    expect(started?.leasesReturned).toBeGreaterThan(0);
    expect(rung.map((r) => r.body.id)).toEqual(expect.arrayContaining([recent.id, held.id]));
    await db.db
      .update(instanceOperations)
      .set({ status: 'succeeded' })
      .where(inArray(instanceOperations.id, [overdue.id, recent.id, held.id]));
  });
});
