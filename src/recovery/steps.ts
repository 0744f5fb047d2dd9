// The Fly side of each recovery step. A step reads what it needs, makes its call, and
// says what happened; run-step.ts records it and rings the next. Every create is safe to
// repeat: the volume is named for the recovery and found by name, the machine is tagged
// with the recovery's id and adopted by tag, and a rerun (the step's second claim) looks
// before it creates.
import { REQUEST_ID_KEY } from '../adapters/fly/create-machine.ts';
import { findLiveVolume } from '../adapters/fly/create-volume.ts';
import { FlyApiError, isFlyError } from '../adapters/fly/errors.ts';
import type { Machine, Volume } from '../adapters/fly/types.ts';
import type { Deps } from '../deps.ts';
import { machineConfigFor } from '../fleet/machine-config.ts';
import { createMachineOnce, volumeNameFor } from '../fleet/operations/provision-step.ts';
import type { RecoverableInstance } from '../fleet/recovery-moves.ts';
import { type Recovery, type RecoveryStep, START_DEADLINE_MS } from './model.ts';
import { deleteOwnedVolume, destroyMachine, isCapacityError } from './old-volume.ts';
import type { RecoveryPatch } from './store.ts';

/** What a step decided. */
export type StepOutcome =
  /** Enter `to` (after `inMs`). */
  | { kind: 'advance'; to: RecoveryStep; patch?: RecoveryPatch; note?: string; inMs?: number }
  /** Not done yet, nothing wrong (a machine still starting): look again in `inMs`. */
  | { kind: 'wait'; inMs: number; note: string; patch?: RecoveryPatch }
  /** A failed try: counts against the step's retries, then backs off. */
  | { kind: 'retry'; error: string; inMs?: number; patch?: RecoveryPatch }
  /** Failed for good (in place: relocation follows, if allowed). */
  | { kind: 'fail'; error: string }
  /** Ended well. */
  | { kind: 'succeed'; machineVersion: string | null; patch?: RecoveryPatch; note?: string }
  /** The replacement is healthy: cut over, keeping the old volume until `retainUntil`. */
  | { kind: 'cut_over'; retainUntil: Date | null };

export type StepInput = {
  deps: Deps;
  r: Recovery;
  instance: RecoverableInstance;
  /** What is left of the callback's budget (ms): how long a `wait` may block. */
  budgetMs: number;
};

const app = (i: StepInput) => i.instance.appName;
const waitSeconds = (budgetMs: number) => Math.max(1, Math.min(10, Math.floor(budgetMs / 1000)));

/** Waits (within the budget) for `machineId` on `version` to be started; false on 408. */
async function startedWithin(i: StepInput, machineId: string, version: string | undefined) {
  try {
    await i.deps.fly.waitMachine(app(i), machineId, {
      state: 'started',
      instanceId: version,
      timeoutSeconds: waitSeconds(i.budgetMs),
    });
    return true;
  } catch (err) {
    if (isFlyError(err, 408)) return false;
    throw err;
  }
}

/**
 * In place: the old machine, started once by us (as Fly's own restart policy would), if its
 * host is `ok`; `started` and a healthy probe end the recovery in place. A host that is
 * not `ok`, a machine gone, a start refused, a machine not started by the step's deadline
 * or a probe failing fail the step: relocation follows when allowed.
 */
export async function inPlaceStart(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  const machineId = r.oldMachineId;
  if (!machineId) return { kind: 'fail', error: 'the instance has no machine to start' };
  let machine: Machine;
  try {
    machine = await deps.fly.getMachine(app(i), machineId);
  } catch (err) {
    if (isFlyError(err, 404)) return { kind: 'fail', error: `machine ${machineId} is gone` };
    throw err;
  }
  if (machine.host_status && machine.host_status !== 'ok')
    return { kind: 'fail', error: `the machine's host is ${machine.host_status}` };
  if (machine.state === 'destroyed' || machine.state === 'destroying')
    return { kind: 'fail', error: `machine ${machineId} is ${machine.state}` };
  if (machine.state !== 'started') {
    if (i.r.stepDeadlineAt && deps.clock.now() > i.r.stepDeadlineAt)
      return { kind: 'fail', error: `machine ${machineId} did not start in time` };
    try {
      await deps.fly.startMachine(app(i), machineId);
    } catch (err) {
      if (!(isFlyError(err, 412) && /still active|attempting to start/.test(String(err))))
        throw err;
    }
    if (!(await startedWithin(i, machineId, machine.instance_id)))
      return { kind: 'wait', inMs: 1000, note: `waiting for machine ${machineId} to start` };
  }
  const probe = await deps.gateway.probe({
    appName: app(i),
    machineId,
    instanceId: machine.instance_id,
  });
  if (!probe.healthy) return { kind: 'retry', error: `health probe: ${probe.detail}`, inMs: 3000 };
  return {
    kind: 'succeed',
    machineVersion: machine.instance_id,
    patch: { inPlace: true, newMachineVersion: machine.instance_id },
    note: 'started in place',
  };
}

/** The regions to try, in order: the old one, then the configured fallbacks. */
export function regionsFor(r: Recovery, fallbacks: string[]): string[] {
  return [...new Set([r.oldRegion, ...fallbacks])];
}

/** The newest snapshot that can be restored, or null. */
async function newestSnapshot(i: StepInput, volumeId: string) {
  const snapshots = await i.deps.fly.listSnapshots(app(i), volumeId);
  const usable = snapshots
    .filter((s) => s.status === 'created')
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  return usable[0] ?? null;
}

/**
 * Relocation's first step: the old machine destroyed if it still exists (404 is fine),
 * then the replacement volume in the region being tried — a fork of the old volume when
 * its host is `ok` and the region is the old one, else a restore of its newest snapshot.
 * No usable snapshot where one is needed: failed with that reason. A capacity refusal
 * moves on to the next region; none left: failed.
 */
export async function createReplacementVolume(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  if (r.oldMachineId) {
    try {
      await destroyMachine(deps.fly, app(i), r.oldMachineId);
    } catch (err) {
      // A machine on a dead host may not be destroyable: after the step's tries, move on
      // (it is down, and its volume is only read) and say so.
      if (!(err instanceof FlyApiError) || r.stepFailures + 1 < deps.config.recovery.stepRetries)
        throw err;
      deps.log.warn('recovery.old_machine_not_destroyed', {
        recoveryId: r.id,
        machineId: r.oldMachineId,
        error: err,
      });
    }
  }
  if (!r.oldVolumeId) return { kind: 'fail', error: 'the instance has no volume to move' };
  const regions = regionsFor(r, deps.config.recovery.fallbackRegions);
  const region = regions[r.regionIndex];
  if (!region)
    return {
      kind: 'fail',
      error: `no capacity in any allowed region (${regions.join(', ')})`,
    };
  const name = volumeNameFor(i.instance.name, r.id);
  let old: Volume | null = null;
  try {
    old = await deps.fly.getVolume(app(i), r.oldVolumeId);
  } catch (err) {
    if (!isFlyError(err, 404)) throw err;
  }
  if (!old) return { kind: 'fail', error: `the old volume ${r.oldVolumeId} is gone` };
  const hostOk = (old.host_status ?? 'ok') === 'ok';
  const fork = hostOk && region === old.region;
  if (r.stepClaims > 1) {
    const found = findLiveVolume(await deps.fly.listVolumes(app(i)), name, region);
    if (found) return volumeMade(i, found, region, fork ? 'fork' : 'snapshot');
  }
  const snapshot = fork ? null : await newestSnapshot(i, old.id);
  if (!fork && !snapshot)
    return {
      kind: 'fail',
      error: hostOk
        ? `no snapshot of volume ${old.id} to restore in ${region}`
        : `the old volume's host is unreachable and volume ${old.id} has no usable snapshot`,
    };
  try {
    const made = await deps.fly.createVolume(
      app(i),
      fork
        ? { name, source_volume_id: old.id, require_unique_zone: false }
        : {
            name,
            region,
            snapshot_id: snapshot?.id,
            size_gb: Math.max(old.size_gb, snapshot?.volume_size ?? 0),
            require_unique_zone: false,
          },
      { nameIsUnique: true },
    );
    return volumeMade(i, made, region, fork ? 'fork' : 'snapshot');
  } catch (err) {
    if (!isCapacityError(err)) throw err;
    return nextRegion(r, region, err);
  }
}

function nextRegion(r: Recovery, region: string, err: FlyApiError): StepOutcome {
  return {
    kind: 'wait',
    inMs: 0,
    note: `no capacity in ${region} (${err.message}); trying the next region`,
    patch: { regionIndex: r.regionIndex + 1, lastError: `${region}: ${err.message}` },
  };
}

/** The volume is made; the machine must be made on it within the start deadline. */
function volumeMade(
  i: StepInput,
  volume: Volume,
  region: string,
  source: 'fork' | 'snapshot',
): StepOutcome {
  const r = i.r;
  return {
    kind: 'advance',
    to: 'volume_created',
    patch: {
      newVolumeId: volume.id,
      regionTried: region,
      volumeSource: source,
      stepDeadlineAt: new Date(i.deps.clock.now().getTime() + START_DEADLINE_MS),
    },
    note: `${source === 'fork' ? 'forked' : 'restored'} volume ${volume.id} in ${region}${r.regionIndex ? ' (fallback)' : ''}`,
  };
}

/**
 * The replacement machine's name: the instance's, with the recovery's first 8 hex digits
 * (the old machine keeps the instance's name until it is destroyed, and Fly machine names
 * are unique per app).
 */
export function replacementName(instanceName: string, recoveryId: string): string {
  return `${instanceName.slice(0, 54)}-${recoveryId.replace(/-/g, '').slice(0, 8)}`;
}

/**
 * The replacement machine, built by the same function provisioning uses, on the
 * instance's image (its pin wins), with the new volume mounted, tagged with the
 * recovery's id. A capacity refusal removes the new volume and goes back one step for the
 * next region; a volume not mountable yet (a fork still being created) is waited for.
 */
export async function createReplacementMachine(i: StepInput): Promise<StepOutcome> {
  const { deps, r, instance } = i;
  const volumeId = r.newVolumeId;
  const region = r.regionTried ?? r.oldRegion;
  if (!volumeId) return { kind: 'fail', error: 'no replacement volume was recorded' };
  const tagged = () => deps.fly.listMachines(app(i), { metadata: { [REQUEST_ID_KEY]: r.id } });
  const live = (ms: Machine[]) =>
    ms.find((m) => m.state !== 'destroyed' && m.state !== 'destroying');
  const image = instance.pinnedImageTag ?? instance.imageTag;
  if (!image) return { kind: 'fail', error: 'the instance has no image' };
  let machine = r.stepClaims > 1 ? live(await tagged()) : undefined;
  if (!machine) {
    try {
      machine = await createMachineOnce(deps, app(i), tagged, {
        name: replacementName(instance.name, r.id),
        region,
        config: await machineConfigFor(deps, {
          instanceId: instance.id,
          image,
          volumeId,
          metadata: { [REQUEST_ID_KEY]: r.id },
        }),
      });
    } catch (err) {
      if (isCapacityError(err)) {
        await deps.fly.deleteVolume(app(i), volumeId).catch((e) => {
          if (!isFlyError(e, 404)) throw e;
        });
        return {
          kind: 'advance',
          to: 'started',
          patch: {
            regionIndex: r.regionIndex + 1,
            newVolumeId: null,
            lastError: `${region}: ${err.message}`,
          },
          note: `no capacity for the machine in ${region}; trying the next region`,
        };
      }
      if (isFlyError(err, 412) && /not ready to mount/.test(String(err))) {
        if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
          return { kind: 'fail', error: `volume ${volumeId} did not become mountable in time` };
        return { kind: 'wait', inMs: 1000, note: `volume ${volumeId} is not ready to mount yet` };
      }
      throw err;
    }
  }
  return {
    kind: 'advance',
    to: 'machine_created',
    patch: {
      newMachineId: machine.id,
      newMachineVersion: machine.instance_id,
      stepDeadlineAt: new Date(deps.clock.now().getTime() + START_DEADLINE_MS),
    },
    note: `machine ${machine.id} in ${region}`,
  };
}

/**
 * Waits for the replacement machine to be `started` (each callback one wait within its
 * budget, re-waiting after 408 until the step's 10-minute deadline), then probes it.
 */
export async function awaitReplacement(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  const machineId = r.newMachineId;
  if (!machineId) return { kind: 'fail', error: 'no replacement machine was recorded' };
  if (!(await startedWithin(i, machineId, r.newMachineVersion ?? undefined))) {
    if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
      return {
        kind: 'fail',
        error: `machine ${machineId} did not reach started within ${START_DEADLINE_MS / 60_000} minutes`,
      };
    return { kind: 'wait', inMs: 1000, note: `waiting for machine ${machineId} to start` };
  }
  const probe = await deps.gateway.probe({
    appName: app(i),
    machineId,
    instanceId: r.newMachineVersion ?? undefined,
  });
  if (!probe.healthy) return { kind: 'retry', error: `health probe: ${probe.detail}`, inMs: 3000 };
  return { kind: 'advance', to: 'machine_started', note: `machine ${machineId} is healthy` };
}

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
  const result = await deleteOwnedVolume(deps.fly, app(i), r.oldVolumeId, r.instanceId);
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
 * already is fine). Throws Fly errors for a retry (a volume still attached while its
 * machine is destroyed answers 412).
 */
export async function cleanUpReplacement(i: StepInput): Promise<void> {
  const { deps, r } = i;
  const volumeId = r.newVolumeId;
  if (r.newMachineId) await destroyMachine(deps.fly, app(i), r.newMachineId);
  if (volumeId) {
    try {
      await deps.fly.deleteVolume(app(i), volumeId);
    } catch (err) {
      if (isFlyError(err, 404)) return;
      if (err instanceof FlyApiError && err.status === 412) {
        // Still attached to the machine being destroyed: Fly refuses until it detaches.
        const volume = await deps.fly.getVolume(app(i), volumeId);
        if (!volume.attached_machine_id) await deps.fly.deleteVolume(app(i), volumeId);
        else throw err;
        return;
      }
      throw err;
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
      return awaitReplacement;
    case 'machine_started':
      return decideOldVolume;
    case 'cut_over':
      return disposeOldVolume;
    default:
      return null;
  }
}
