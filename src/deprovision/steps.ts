// The work of each deprovision step. A step reads what it needs, makes its Fly calls, and
// says what happened; run-step.ts records it. Every Fly call ends done, not done or unknown,
// and unknown is settled by looking (recovery's fly-effects: a machine that reads 404 or
// `destroyed`, a volume that reads 404 or a deleted state, is done) before anything is sent
// again. Nothing but the instance's own machine and volume is destroyed: a machine or a
// volume's attached machine that carries another instance in its metadata is left alone.
import { isFlyError } from '../adapters/fly/errors.ts';
import { type Ctx, type Deps, SYSTEM_ACTOR } from '../deps.ts';
import { INSTANCE_METADATA_KEY } from '../fleet/machine-config.ts';
import { destroyMachineKnown, machineOrNull } from '../recovery/fly-effects.ts';
import { deleteOwnedVolume } from '../recovery/old-volume.ts';
import type { DeprovisionEvent } from './listeners.ts';
import type { Deprovision, DeprovisionStep, VolumeOutcome } from './model.ts';

/** Tries of a snapshot listing before the volume is kept anyway (as recovery does). */
export const SNAPSHOT_LIST_TRIES = 5;

export type StepOutcome =
  /** The step's work is done: go on to `to`. */
  | { kind: 'advance'; to: DeprovisionStep; patch?: Partial<Deprovision>; note?: string }
  /** The instance is still held by an operation or a recovery step: look again later. */
  | { kind: 'wait'; note: string }
  /** The machine and volume are settled: the instance is `destroyed`. */
  | {
      kind: 'destroyed';
      volume: VolumeOutcome | null;
      note?: string;
      retainUntil?: Date;
    }
  /** A retained volume was deleted at its deadline. */
  | { kind: 'volume_deleted'; volume: VolumeOutcome; note?: string };

export type StepInput = { deps: Deps; d: Deprovision };

/** Tells every listener about a phase, as the deprovision's system actor (throws to retry). */
export async function tellListeners(
  deps: Deps,
  d: Deprovision,
  phase: DeprovisionEvent['phase'],
): Promise<void> {
  const ctx: Ctx = { ...deps, actor: SYSTEM_ACTOR, requestId: null };
  const event = { instanceId: d.instanceId, deprovisionId: d.id, machineId: d.machineId, phase };
  for (const listen of deps.deprovisionListeners) await listen(ctx, event);
}

/** Ends the work on the instance (targets, CLI run, agents) while its machine still exists. */
export async function endWork({ deps, d }: StepInput): Promise<StepOutcome> {
  await tellListeners(deps, d, 'ending_work');
  return {
    kind: 'advance',
    to: 'destroying_machine',
    note: 'pending scheduled targets cancelled, the CLI run cancelled, agents disabled',
  };
}

/**
 * Force-destroys the instance's machine (Fly: machines-resource "Destroy a Machine",
 * `force`); a machine Fly no longer knows, or that reads destroyed, is done. A machine that
 * carries another instance in its metadata is not ours: left alone, and said so.
 */
export async function destroyMachine({ deps, d }: StepInput): Promise<StepOutcome> {
  let note = d.machineId ? `machine ${d.machineId} destroyed` : 'the instance had no machine';
  if (d.machineId) {
    const machine = await machineOrNull(deps.fly, d.appName, d.machineId);
    const owner = (machine?.config ?? machine?.incomplete_config)?.metadata?.[
      INSTANCE_METADATA_KEY
    ];
    if (machine && owner && owner !== d.instanceId)
      note = `machine ${d.machineId} left alone: it belongs to instance ${owner}`;
    else if (machine && machine.state !== 'destroyed')
      await destroyMachineKnown(deps.fly, d.appName, d.machineId);
    else note = `machine ${d.machineId} was already gone`;
  }
  await tellListeners(deps, d, 'machine_destroyed');
  return {
    kind: 'advance',
    to: 'deleting_volume',
    patch: { machineDestroyedAt: deps.clock.now() },
    note,
  };
}

/**
 * The volume: kept for `RECOVERY_RETAIN_DAYS` when it has a snapshot (as recovery keeps an
 * old volume), deleted otherwise after recovery's ownership check. When Fly cannot list the
 * snapshots after {@link SNAPSHOT_LIST_TRIES} tries, it is kept: a volume is never deleted
 * for want of a listing, and a kept one is deleted at its deadline anyway.
 */
export async function settleVolume({ deps, d }: StepInput): Promise<StepOutcome> {
  if (!d.volumeId) return { kind: 'destroyed', volume: null, note: 'the instance had no volume' };
  let keep = false;
  try {
    const snapshots = await deps.fly.listSnapshots(d.appName, d.volumeId);
    keep = snapshots.some((s) => s.status === 'created');
  } catch (err) {
    if (!isFlyError(err, 404)) {
      if (d.stepFailures + 1 < SNAPSHOT_LIST_TRIES) throw err;
      keep = true;
    }
  }
  if (keep) {
    const days = deps.config.recovery.retainDays;
    const retainUntil = new Date(deps.clock.now().getTime() + days * 86_400_000);
    return {
      kind: 'destroyed',
      volume: 'retained',
      retainUntil,
      note: `volume ${d.volumeId} kept until ${retainUntil.toISOString()}: it has snapshots`,
    };
  }
  return { kind: 'destroyed', ...(await deleteVolume(deps, d)) };
}

/** A retained volume's deadline came: it is deleted (after the ownership check). */
export async function deleteRetained({ deps, d }: StepInput): Promise<StepOutcome> {
  return { kind: 'volume_deleted', ...(await deleteVolume(deps, d)) };
}

async function deleteVolume(
  deps: Deps,
  d: Deprovision,
): Promise<{ volume: VolumeOutcome; note: string }> {
  const id = d.volumeId ?? '';
  const result = await deleteOwnedVolume(deps.fly, d.appName, id, d.instanceId);
  if (result.kind === 'refused')
    return { volume: 'refused', note: `volume not deleted: ${result.reason}` };
  return {
    volume: result.kind,
    note: `volume ${id} ${result.kind === 'deleted' ? 'deleted' : 'was already gone'}`,
  };
}
