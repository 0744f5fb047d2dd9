// `POST /v1/apps/{app}/volumes`: a new volume, a fork (`source_volume_id`) or a restore
// (`snapshot_id`). Defaults from docs volumes-resource: size 3 GB, encrypted, unique zone,
// snapshot retention 5 days, daily backups on, ext4.
import { and, eq, notInArray } from 'drizzle-orm';
import type { SimFlyStep } from '../../../db/dev-schema/fly-simulator.ts';
import { simFlySnapshots, simFlyVolumes } from '../../../db/dev-schema/index.ts';
import { currentTimings, type SimContext } from './context.ts';
import * as ids from './ids.ts';
import { invalid, noCapacity, opt, precondition, SimError } from './respond.ts';
import type { VolumeRow } from './serialize.ts';
import { dueAt } from './state.ts';
import { DELETED_STATES, findVolume, listSnapshotRows } from './volume-store.ts';

type Origin = { state: VolumeRow['state']; steps: SimFlyStep[]; region?: string; sizeGb?: number };

function intField(
  body: Record<string, unknown>,
  key: string,
  min: number,
  max: number,
  fallback?: number,
) {
  const value = opt(body[key]);
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    throw invalid(`${key} must be a whole number from ${min} to ${max}`);
  return value;
}

function boolField(body: Record<string, unknown>, key: string, fallback: boolean) {
  const value = opt(body[key]);
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalid(`${key} must be true or false`);
  return value;
}

/** Where the data comes from, and the states it goes through (docs: volume-states). */
async function originOf(
  ctx: SimContext,
  app: string,
  body: Record<string, unknown>,
  t0: number,
): Promise<Origin> {
  const source = opt(body.source_volume_id);
  const snapshot = opt(body.snapshot_id);
  if (source !== undefined && snapshot !== undefined)
    throw invalid('give source_volume_id or snapshot_id, not both');
  if (typeof source === 'string') {
    const from = await findVolume(ctx, app, source);
    if (!from || DELETED_STATES.has(from.state))
      throw new SimError(404, 'not_found: source volume not found');
    // A fork copies blocks from the source's host; a dead host cannot serve them.
    if (ctx.faults.hostUnreachable(from))
      throw precondition(`source volume ${source} is on an unreachable host`);
    const t = ctx.timings.forkHydrateMs;
    const hydrated = currentTimings(ctx).forkHydrateMs;
    return {
      state: 'creating',
      steps: [
        { at: t0 + t * 0.1, state: 'enabling_remote_export' },
        { at: t0 + t * 0.2, state: 'hydrating' },
        { at: t0 + hydrated, state: 'created' },
      ],
      region: from.region,
      sizeGb: from.sizeGb,
    };
  }
  if (typeof snapshot === 'string') {
    const [found] = await ctx.db
      .select({ volumeId: simFlySnapshots.volumeId })
      .from(simFlySnapshots)
      .innerJoin(simFlyVolumes, eq(simFlyVolumes.id, simFlySnapshots.volumeId))
      .where(and(eq(simFlySnapshots.id, snapshot), eq(simFlyVolumes.appName, app)));
    const usable = found
      ? (await listSnapshotRows(ctx, found.volumeId)).find((s) => s.id === snapshot)
      : undefined;
    if (usable?.status !== 'created') throw new SimError(404, 'not_found: snapshot not found');
    if (typeof opt(body.region) !== 'string')
      throw invalid('region is required when restoring from a snapshot');
    return {
      state: 'restoring',
      steps: [{ at: t0 + ctx.timings.restoreMs, state: 'created' }],
      sizeGb: usable.volumeSize,
    };
  }
  return { state: 'created', steps: [] };
}

/**
 * A host for the volume. With `require_unique_zone` (default) it avoids hosts holding a
 * live volume of the same name in the app (docs: "no other volume of the same name").
 */
async function pickZone(
  ctx: SimContext,
  app: string,
  name: string,
  region: string,
  unique: boolean,
) {
  if (!unique) return ids.zone();
  const taken = await ctx.db
    .select({ zone: simFlyVolumes.zone })
    .from(simFlyVolumes)
    .where(
      and(
        eq(simFlyVolumes.appName, app),
        eq(simFlyVolumes.name, name),
        eq(simFlyVolumes.region, region),
        notInArray(simFlyVolumes.state, [...DELETED_STATES] as VolumeRow['state'][]),
      ),
    );
  const used = new Set(taken.map((t) => t.zone));
  for (;;) {
    const zone = ids.zone();
    if (!used.has(zone)) return zone;
  }
}

/** Validates the body, then inserts the volume; 400 / 404 / 412 as the docs describe. */
export async function createVolumeRow(
  ctx: SimContext,
  app: string,
  body: Record<string, unknown>,
): Promise<VolumeRow> {
  const name = body.name;
  if (typeof name !== 'string' || !/^[a-z0-9_]{1,30}$/.test(name))
    throw invalid('name must be 1–30 lower-case letters, digits or underscores');
  const asked = opt(body.region);
  if (asked !== undefined && typeof asked !== 'string') throw invalid('region must be a string');
  const t0 = ctx.nowMs();
  const origin = await originOf(ctx, app, body, t0);
  if (origin.region && asked && asked !== origin.region)
    throw invalid(`a fork is made in its source volume's region (${origin.region})`);
  const region = origin.region ?? asked ?? ctx.defaultRegion;
  if (ctx.faults.state.outOfCapacity.has(region)) throw noCapacity('volume', region);
  const sizeGb = intField(body, 'size_gb', 1, 500, origin.sizeGb ?? 3) as number;
  if (origin.sizeGb && sizeGb < origin.sizeGb)
    throw invalid(`size_gb cannot be smaller than the source (${origin.sizeGb})`);
  const compute = opt(body.compute);
  const unique = boolField(body, 'require_unique_zone', true);
  const [row] = await ctx.db
    .insert(simFlyVolumes)
    .values({
      id: ids.volumeId(),
      appName: app,
      name,
      region,
      zone: await pickZone(ctx, app, name, region, unique),
      sizeGb,
      state: origin.state,
      encrypted: boolField(body, 'encrypted', true),
      fstype: typeof body.fstype === 'string' ? body.fstype : 'ext4',
      snapshotRetention: intField(body, 'snapshot_retention', 1, 60, 5) as number,
      autoBackupEnabled: boolField(body, 'auto_backup_enabled', true),
      sourceVolumeId: typeof body.source_volume_id === 'string' ? body.source_volume_id : null,
      snapshotId: typeof body.snapshot_id === 'string' ? body.snapshot_id : null,
      compute: compute && typeof compute === 'object' ? (compute as Record<string, unknown>) : null,
      steps: origin.steps,
      dueAt: dueAt(origin.steps),
      createdAt: new Date(t0),
    })
    .returning();
  return row as VolumeRow;
}
