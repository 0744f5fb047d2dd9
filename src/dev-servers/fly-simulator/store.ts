// Machine rows: lazy advancement and guarded writes. The simulator's clock decides every
// timestamp (never the database's `now()`), so a test clock moves the whole simulation.
import { and, asc, eq, getTableColumns, inArray, lte, sql } from 'drizzle-orm';
import type { SimFlyStep } from '../../../db/dev-schema/fly-simulator.ts';
import {
  simFlyMachineEvents,
  simFlyMachines,
  simFlyMachineVersions,
  simFlyVolumes,
} from '../../../db/dev-schema/index.ts';
import type { SimContext } from './context.ts';
import { ulid } from './ids.ts';
import { machineNotFound } from './respond.ts';
import { concurrentUpdate, dueAt, dueSteps, type MachineEventSpec } from './state.ts';

export type MachineRow = typeof simFlyMachines.$inferSelect;

/** A change to one machine, written only if nobody changed the row since it was read. */
export type Change = {
  state?: MachineRow['state'];
  steps?: SimFlyStep[];
  instanceId?: string;
  config?: Record<string, unknown>;
  events?: (MachineEventSpec & { at: number })[];
  /** A new current version (the previous one becomes `replaced`). */
  newVersion?: boolean;
  /** Fall back to this earlier version (image pull failure). */
  revertTo?: string;
};

const ATTEMPTS = 5;

/**
 * Writes `change` guarded by `row.revision` (one UPDATE … WHERE revision = $r); versions,
 * events and volume detachment go in the same transaction. Null when the row had moved on.
 */
async function commit(
  ctx: SimContext,
  row: MachineRow,
  change: Change,
): Promise<MachineRow | null> {
  return ctx.db.transaction(async (tx) => {
    let { instanceId, config } = change;
    if (change.revertTo) {
      const [old] = await tx
        .select()
        .from(simFlyMachineVersions)
        .where(eq(simFlyMachineVersions.instanceId, change.revertTo));
      if (old) ({ instanceId, config } = old);
    }
    const steps = change.steps ?? row.steps;
    const [updated] = await tx
      .update(simFlyMachines)
      .set({
        state: change.state ?? row.state,
        steps,
        dueAt: dueAt(steps),
        instanceId: instanceId ?? row.instanceId,
        config: config ?? row.config,
        revision: row.revision + 1,
        updatedAt: ctx.now(),
      })
      .where(and(eq(simFlyMachines.id, row.id), eq(simFlyMachines.revision, row.revision)))
      .returning();
    if (!updated) return null;
    // A controller lives only while its machine runs: leaving `started` forgets its runs.
    if (updated.state !== 'started') ctx.controller.forget(row.id);
    if (change.newVersion || change.revertTo) {
      await tx
        .update(simFlyMachineVersions)
        .set({ status: 'replaced' })
        .where(eq(simFlyMachineVersions.machineId, row.id));
      if (change.newVersion)
        await tx.insert(simFlyMachineVersions).values({
          instanceId: updated.instanceId,
          machineId: row.id,
          config: updated.config,
          status: 'current',
          createdAt: ctx.now(),
        });
      else
        await tx
          .update(simFlyMachineVersions)
          .set({ status: 'current' })
          .where(eq(simFlyMachineVersions.instanceId, updated.instanceId));
    }
    if (change.events?.length)
      await tx.insert(simFlyMachineEvents).values(
        change.events.map((e) => ({
          id: ulid(e.at),
          machineId: row.id,
          type: e.type,
          status: e.status,
          source: e.source,
          request: e.request ?? null,
          at: new Date(e.at),
        })),
      );
    if (updated.state === 'destroyed')
      await tx
        .update(simFlyVolumes)
        .set({ attachedMachineId: null, revision: sql`${simFlyVolumes.revision} + 1` })
        .where(eq(simFlyVolumes.attachedMachineId, row.id));
    return updated;
  });
}

/** Applies the steps due by now; re-reads and retries if another request got there first. */
export async function advance(ctx: SimContext, row: MachineRow): Promise<MachineRow> {
  let current = row;
  for (let i = 0; i < ATTEMPTS; i++) {
    const due = dueSteps(current.steps, ctx.nowMs());
    if (!due) return current;
    const revertTo = due.fired.find((s) => s.revertTo)?.revertTo;
    const events = due.fired.flatMap((s) => (s.event ? [{ ...s.event, at: s.at }] : []));
    const written = await commit(ctx, current, {
      state: due.state,
      steps: due.rest,
      events,
      revertTo,
    });
    if (written) return written;
    const [fresh] = await ctx.db.select().from(simFlyMachines).where(eq(simFlyMachines.id, row.id));
    if (!fresh) throw machineNotFound();
    current = fresh;
  }
  throw concurrentUpdate();
}

/** The machine as of now, or null (also when it belongs to another app). */
export async function findMachine(
  ctx: SimContext,
  app: string,
  id: string,
): Promise<MachineRow | null> {
  const [row] = await ctx.db
    .select()
    .from(simFlyMachines)
    .where(and(eq(simFlyMachines.id, id), eq(simFlyMachines.appName, app)));
  return row ? advance(ctx, row) : null;
}

/** Like {@link findMachine}, but 404 `not_found: machine not found` when absent. */
export async function requireMachine(
  ctx: SimContext,
  app: string,
  id: string,
): Promise<MachineRow> {
  const row = await findMachine(ctx, app, id);
  if (!row) throw machineNotFound();
  return row;
}

/**
 * Read-decide-write with optimistic concurrency: `decide` sees the current row and returns
 * a change (or null for "nothing to do"); on a lost race it runs again on the fresh row.
 * After five lost races: 409 `aborted: … concurrent update`.
 */
export async function mutateMachine(
  ctx: SimContext,
  app: string,
  id: string,
  decide: (row: MachineRow) => Change | null | Promise<Change | null>,
): Promise<MachineRow> {
  for (let i = 0; i < ATTEMPTS; i++) {
    const row = await requireMachine(ctx, app, id);
    const change = await decide(row);
    if (!change) return row;
    const written = await commit(ctx, row, change);
    if (written) return written;
  }
  throw concurrentUpdate();
}

export type MachineFilter = { region?: string; metadata?: Record<string, string> };

/** An app's machines as of now, oldest first, filtered by region and metadata in SQL. */
export async function listMachineRows(
  ctx: SimContext,
  app: string,
  filter: MachineFilter,
): Promise<MachineRow[]> {
  const conditions = [eq(simFlyMachines.appName, app)];
  if (filter.region) conditions.push(eq(simFlyMachines.region, filter.region));
  if (filter.metadata && Object.keys(filter.metadata).length)
    conditions.push(
      sql`${simFlyMachines.config} -> 'metadata' @> ${JSON.stringify(filter.metadata)}::jsonb`,
    );
  const rows = await ctx.db
    .select()
    .from(simFlyMachines)
    .where(and(...conditions))
    .orderBy(asc(simFlyMachines.createdAt), asc(simFlyMachines.id));
  return Promise.all(rows.map((r) => advance(ctx, r)));
}

type EventRow = typeof simFlyMachineEvents.$inferSelect;

/** Events of the given machines, newest first (as Fly embeds them), at most `limit` each. */
export async function eventsFor(ctx: SimContext, machineIds: string[], limit = 20) {
  const byMachine = new Map<string, EventRow[]>();
  if (!machineIds.length) return byMachine;
  const e = simFlyMachineEvents;
  const newestFirst = sql`${e.at} desc, ${e.id} desc`;
  // The window keeps only each machine's newest `limit` rows, so long histories stay cheap.
  const ranked = ctx.db
    .select({
      ...getTableColumns(e),
      rank: sql<number>`row_number() over (partition by ${e.machineId} order by ${newestFirst})`.as(
        'rank',
      ),
    })
    .from(e)
    .where(inArray(e.machineId, machineIds))
    .as('ranked');
  const rows = await ctx.db
    .select()
    .from(ranked)
    .where(lte(ranked.rank, limit))
    .orderBy(sql`${ranked.at} desc, ${ranked.id} desc`);
  for (const { rank: _, ...row } of rows) {
    const list = byMachine.get(row.machineId) ?? [];
    list.push(row);
    byMachine.set(row.machineId, list);
  }
  return byMachine;
}
