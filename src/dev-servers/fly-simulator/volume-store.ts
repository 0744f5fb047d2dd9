// Volume and snapshot rows: lazy advancement of state steps, guarded writes.
import { and, asc, eq, lte, sql } from 'drizzle-orm';
import type { SimFlyStep } from '../../../db/dev-schema/fly-simulator.ts';
import { simFlyMachines, simFlySnapshots, simFlyVolumes } from '../../../db/dev-schema/index.ts';
import type { SimContext } from './context.ts';
import { volumeNotFound } from './respond.ts';
import type { SnapshotRow, VolumeRow } from './serialize.ts';
import { concurrentUpdate, dueAt, dueSteps } from './state.ts';
import { advance } from './store.ts';

/** States in which a volume is gone for its owner (fly-go `destroyedVolumeStates`). */
export const DELETED_STATES = new Set(['scheduling_destroy', 'pending_destroy', 'destroyed']);

/** States a machine may mount: hydrating forks are mountable (docs: volumes/volume-forking). */
export const MOUNTABLE_STATES = new Set(['created', 'hydrating', 'extending']);

export type VolumeChange = Partial<
  Pick<VolumeRow, 'state' | 'sizeGb' | 'attachedMachineId' | 'deletedAt'>
> & { steps?: SimFlyStep[] };

/** One guarded UPDATE; null when another request changed the row first. */
async function commitVolume(ctx: SimContext, row: VolumeRow, change: VolumeChange) {
  const steps = change.steps ?? row.steps;
  const [updated] = await ctx.db
    .update(simFlyVolumes)
    .set({ ...change, steps, dueAt: dueAt(steps), revision: row.revision + 1 })
    .where(and(eq(simFlyVolumes.id, row.id), eq(simFlyVolumes.revision, row.revision)))
    .returning();
  return updated ?? null;
}

/**
 * A volume's attachment changes when its machine is destroyed, which is applied lazily on
 * the machine's row: bring a due machine up to date first, so the volume does not report a
 * machine that is already gone.
 */
async function settleAttachment(ctx: SimContext, row: VolumeRow): Promise<VolumeRow> {
  if (!row.attachedMachineId) return row;
  const [machine] = await ctx.db
    .select()
    .from(simFlyMachines)
    .where(and(eq(simFlyMachines.id, row.attachedMachineId), lte(simFlyMachines.dueAt, ctx.now())));
  if (!machine) return row;
  await advance(ctx, machine);
  const [fresh] = await ctx.db.select().from(simFlyVolumes).where(eq(simFlyVolumes.id, row.id));
  return fresh ?? row;
}

async function advanceVolume(ctx: SimContext, row: VolumeRow): Promise<VolumeRow> {
  let current = await settleAttachment(ctx, row);
  for (let i = 0; i < 5; i++) {
    const due = dueSteps(current.steps, ctx.nowMs());
    if (!due) return current;
    const written = await commitVolume(ctx, current, {
      state: due.state as VolumeRow['state'],
      steps: due.rest,
    });
    if (written) return written;
    const [fresh] = await ctx.db.select().from(simFlyVolumes).where(eq(simFlyVolumes.id, row.id));
    if (!fresh) throw volumeNotFound();
    current = fresh;
  }
  throw concurrentUpdate();
}

/** The volume as of now (any state, soft-deleted included), or null. */
export async function findVolume(ctx: SimContext, app: string, id: string) {
  const [row] = await ctx.db
    .select()
    .from(simFlyVolumes)
    .where(and(eq(simFlyVolumes.id, id), eq(simFlyVolumes.appName, app)));
  return row ? advanceVolume(ctx, row) : null;
}

/** Like {@link findVolume}, but 404 `not_found: volume not found` when absent. */
export async function requireVolume(ctx: SimContext, app: string, id: string) {
  const row = await findVolume(ctx, app, id);
  if (!row) throw volumeNotFound();
  return row;
}

/** Read-decide-write like `mutateMachine`, for volumes. */
export async function mutateVolume(
  ctx: SimContext,
  app: string,
  id: string,
  decide: (row: VolumeRow) => VolumeChange | Promise<VolumeChange>,
): Promise<VolumeRow> {
  for (let i = 0; i < 5; i++) {
    const row = await requireVolume(ctx, app, id);
    const written = await commitVolume(ctx, row, await decide(row));
    if (written) return written;
  }
  throw concurrentUpdate();
}

/** An app's volumes as of now, soft-deleted included, oldest first. */
export async function listVolumeRows(ctx: SimContext, app: string) {
  const rows = await ctx.db
    .select()
    .from(simFlyVolumes)
    .where(eq(simFlyVolumes.appName, app))
    .orderBy(asc(simFlyVolumes.createdAt), asc(simFlyVolumes.id));
  return Promise.all(rows.map((r) => advanceVolume(ctx, r)));
}

/**
 * A volume's snapshots within their retention (`created_at` + `retention_days` still
 * ahead), oldest first; finished ones are marked `created` first.
 */
export async function listSnapshotRows(ctx: SimContext, volumeId: string): Promise<SnapshotRow[]> {
  await ctx.db
    .update(simFlySnapshots)
    .set({ status: 'created' })
    .where(
      and(
        eq(simFlySnapshots.volumeId, volumeId),
        eq(simFlySnapshots.status, 'running'),
        lte(simFlySnapshots.readyAt, ctx.now()),
      ),
    );
  return ctx.db
    .select()
    .from(simFlySnapshots)
    .where(
      and(
        eq(simFlySnapshots.volumeId, volumeId),
        sql`${simFlySnapshots.createdAt} + make_interval(days => ${simFlySnapshots.retentionDays}) > ${ctx.now().toISOString()}::timestamptz`,
      ),
    )
    .orderBy(asc(simFlySnapshots.createdAt), asc(simFlySnapshots.id));
}
