// The Fly side of each recovery step. A step reads what it needs, makes its calls, and
// says what happened; run-step.ts records it and rings the next. Every create is safe to
// repeat: the volume is named for the recovery and found by name, the machine is tagged
// with the recovery's id and adopted by tag, and a rerun (the step's second claim) looks
// before it creates. The order — replacement volume, replacement machine (not started),
// then the old machine destroyed and the replacement started — is docs/adr/0011.
import { REQUEST_ID_KEY } from '../adapters/fly/create-machine.ts';
import { DELETED_VOLUME_STATES } from '../adapters/fly/create-volume.ts';
import { FlyApiError, isFlyError } from '../adapters/fly/errors.ts';
import { volumeNameFor } from '../fleet/operations/provision-step.ts';
import { deleteVolumeKnown, destroyMachineKnown } from './fly-effects.ts';
import type { RecoveryStep } from './model.ts';
import { deleteOwnedVolume } from './old-volume.ts';
import { inPlaceStart } from './step-in-place.ts';
import { appOf, newestSnapshot, type StepInput, type StepOutcome } from './step-kit.ts';
import { createReplacementMachine, startReplacement } from './step-machine.ts';
import { createReplacementVolume } from './step-volume.ts';

export type { StepInput, StepOutcome } from './step-kit.ts';

/**
 * Before the cut-over: the old volume is kept when it has snapshots, deleted otherwise.
 * When Fly cannot say (the listing fails on the last try), it is kept: a healthy
 * replacement is never thrown away for want of a listing, and a kept volume is deleted
 * at its deadline anyway.
 */
export async function decideOldVolume(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  let keep = false;
  if (r.oldVolumeId) {
    try {
      keep = (await newestSnapshot(i, r.oldVolumeId)) !== null;
    } catch (err) {
      if (!isFlyError(err, 404)) {
        if (r.stepFailures + 1 < deps.config.recovery.stepRetries) throw err;
        keep = true;
      }
    }
  }
  const days = deps.config.recovery.retainDays;
  return {
    kind: 'cut_over',
    retainUntil: keep ? new Date(deps.clock.now().getTime() + days * 86_400_000) : null,
  };
}

/**
 * After the cut-over: a retained old volume waits for its deadline (reconcile deletes it);
 * otherwise it is deleted now, after the ownership check. A refusal ends the recovery
 * well, with the reason noted and the volume left alone.
 */
export async function disposeOldVolume(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  if (r.retainedVolumeId)
    return {
      kind: 'succeed',
      machineVersion: r.newMachineVersion,
      note: `old volume ${r.retainedVolumeId} retained until ${r.retainUntil?.toISOString()}`,
    };
  if (!r.oldVolumeId) return { kind: 'succeed', machineVersion: r.newMachineVersion };
  const result = await deleteOwnedVolume(deps.fly, appOf(i), r.oldVolumeId, r.instanceId);
  if (result.kind === 'refused')
    return {
      kind: 'succeed',
      machineVersion: r.newMachineVersion,
      note: `old volume not deleted: ${result.reason}`,
    };
  return {
    kind: 'succeed',
    machineVersion: r.newMachineVersion,
    patch: { oldVolumeDeletedAt: deps.clock.now() },
    note: `old volume ${r.oldVolumeId} ${result.kind === 'deleted' ? 'deleted' : 'already gone'} (no snapshots)`,
  };
}

/**
 * After a failure: the replacement machine and volume made so far are removed (each gone
 * already is fine) — the recorded ones, and any this recovery made whose create answer was
 * lost (found by the machine's tag and the volume's name). Throws Fly errors for a retry
 * (a volume still attached while its machine is destroyed answers 412).
 */
export async function cleanUpReplacement(i: StepInput): Promise<void> {
  const { deps, r } = i;
  const app = appOf(i);
  const tagged = await deps.fly.listMachines(app, { metadata: { [REQUEST_ID_KEY]: r.id } });
  const machines = new Set(
    tagged.filter((m) => m.state !== 'destroyed' && m.state !== 'destroying').map((m) => m.id),
  );
  if (r.newMachineId) machines.add(r.newMachineId);
  for (const id of machines) await destroyMachineKnown(deps.fly, app, id);
  const name = volumeNameFor(i.instance.name, r.id);
  const volumes = new Set(
    (await deps.fly.listVolumes(app))
      .filter((v) => v.name === name && !DELETED_VOLUME_STATES.has(v.state))
      .map((v) => v.id),
  );
  if (r.newVolumeId) volumes.add(r.newVolumeId);
  for (const id of volumes) {
    try {
      await deleteVolumeKnown(deps.fly, app, id);
    } catch (err) {
      if (!(err instanceof FlyApiError && err.status === 412)) throw err;
      // Still attached to the machine being destroyed: Fly refuses until it detaches.
      const volume = await deps.fly.getVolume(app, id).catch((e) => {
        if (isFlyError(e, 404)) return null;
        throw e;
      });
      if (volume?.attached_machine_id) throw err;
      if (volume) await deleteVolumeKnown(deps.fly, app, id);
    }
  }
}

/** Runs the work of the step the recovery is in. */
export function stepWork(step: RecoveryStep): ((i: StepInput) => Promise<StepOutcome>) | null {
  switch (step) {
    case 'in_place_start':
      return inPlaceStart;
    case 'started':
      return createReplacementVolume;
    case 'volume_created':
      return createReplacementMachine;
    case 'machine_created':
      return startReplacement;
    case 'machine_started':
      return decideOldVolume;
    case 'cut_over':
      return disposeOldVolume;
    default:
      return null;
  }
}
