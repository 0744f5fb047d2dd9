// Relocation's first step: decide where the replacement comes from and where it goes, and
// make its volume. Nothing of the old instance is destroyed here: when no replacement can
// be made the recovery waits, keeping the old machine and volume.
import { DELETED_VOLUME_STATES, findLiveVolume } from '../adapters/fly/create-volume.ts';
import { isFlyError } from '../adapters/fly/errors.ts';
import type { Volume, VolumeSnapshot } from '../adapters/fly/types.ts';
import { volumeNameFor } from '../fleet/operations/provision-step.ts';
import { isQuiet, machineOrNull, stopMachineKnown } from './fly-effects.ts';
import { IN_PLACE_DEADLINE_MS, START_DEADLINE_MS } from './model.ts';
import { isCapacityError } from './old-volume.ts';
import {
  appOf,
  fromNow,
  newestSnapshot,
  regionsFor,
  type StepInput,
  type StepOutcome,
} from './step-kit.ts';

/** How long the old machine may take to stop before its volume is forked. */
const STOP_DEADLINE_MS = 2 * 60_000;

async function volumeOrNull(i: StepInput, id: string): Promise<Volume | null> {
  try {
    const v = await i.deps.fly.getVolume(appOf(i), id);
    return DELETED_VOLUME_STATES.has(v.state) ? null : v;
  } catch (err) {
    if (isFlyError(err, 404)) return null;
    throw err;
  }
}

/**
 * The host of a machine that stopped because its host went away is back, and the machine
 * and volume are untouched: starting it in place is the whole recovery (once per recovery,
 * unless in-place starts are switched off).
 */
function backInPlace(i: StepInput): boolean {
  const { r } = i;
  return (
    r.cause === 'host_unreachable' &&
    r.oldMachineId !== null &&
    r.oldMachineDestroyedAt === null &&
    i.deps.config.recovery.inPlaceAttempts > 0 &&
    !r.history.some((h) => h.step === 'in_place_start')
  );
}

/**
 * A fork copies the volume as it is now, so the old machine must run nothing: one that is
 * still up (an admin's relocation of a running instance, an unhealthy in-place start) is
 * stopped first — stopped, not destroyed, so a recovery that goes no further leaves it
 * whole. Null when it is quiet; otherwise the outcome to hand back while it stops.
 */
async function quiesceOldMachine(i: StepInput): Promise<StepOutcome | null> {
  const { deps, r } = i;
  if (!r.oldMachineId || r.oldMachineDestroyedAt) return null;
  const machine = await machineOrNull(deps.fly, appOf(i), r.oldMachineId);
  if (isQuiet(machine)) return null;
  if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
    return { kind: 'retry', error: `machine ${r.oldMachineId} did not stop before the fork` };
  if (machine?.state !== 'stopping') await stopMachineKnown(deps.fly, appOf(i), r.oldMachineId);
  return {
    kind: 'wait',
    inMs: 1000,
    note: `stopping machine ${r.oldMachineId} before forking its volume`,
    patch: r.stepDeadlineAt ? {} : { stepDeadlineAt: fromNow(i, STOP_DEADLINE_MS) },
  };
}

/**
 * Relocation's first step (`started`): the replacement volume, decided before anything is
 * destroyed. Data source: a **fork** of the old volume when its host is `ok` (in the old
 * region only: Fly forks within the source's region), else a **restore** of its newest
 * snapshot. Regions: the old one, then the configured fallbacks; a capacity refusal moves
 * to the next; a region with no possible source is passed over. With none left the
 * recovery waits — for the host when its volume's host is unreachable and it has no
 * snapshot, otherwise for capacity — and looks again from the first region. A host back
 * after a host-unreachable stop leads to the in-place start instead.
 */
export async function createReplacementVolume(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  if (!r.oldVolumeId) return { kind: 'fail', error: 'the instance has no volume to move' };
  const old = await volumeOrNull(i, r.oldVolumeId);
  if (!old) return { kind: 'fail', error: `the old volume ${r.oldVolumeId} is gone` };
  const hostOk = (old.host_status ?? 'ok') === 'ok';
  if (hostOk && backInPlace(i))
    return {
      kind: 'advance',
      to: 'in_place_start',
      patch: { stepDeadlineAt: fromNow(i, IN_PLACE_DEADLINE_MS), regionIndex: 0 },
      note: `the host of machine ${r.oldMachineId} is back; starting it in place`,
    };
  const regions = regionsFor(r, deps.config.recovery.fallbackRegions);
  const name = volumeNameFor(i.instance.name, r.id);
  let snapshot: VolumeSnapshot | null | undefined;
  const snapshotOf = async () => {
    if (snapshot === undefined) snapshot = await newestSnapshot(i, old.id);
    return snapshot;
  };
  for (let index = r.regionIndex; index < regions.length; index++) {
    const region = regions[index] as string;
    const fork = hostOk && region === old.region;
    const from = fork ? null : await snapshotOf();
    if (!fork && !from) continue;
    if (fork) {
      const stopping = await quiesceOldMachine(i);
      if (stopping) return stopping;
    }
    const made = (volume: Volume): StepOutcome => ({
      kind: 'advance',
      to: 'volume_created',
      patch: {
        newVolumeId: volume.id,
        regionTried: region,
        regionIndex: index,
        volumeSource: fork ? 'fork' : 'snapshot',
        stepDeadlineAt: fromNow(i, START_DEADLINE_MS),
      },
      note: `${fork ? 'forked' : 'restored'} volume ${volume.id} in ${region}${index ? ' (fallback)' : ''}`,
    });
    // A rerun (a crash, a lost answer) adopts the volume named for this recovery.
    if (r.stepClaims > 1) {
      const found = findLiveVolume(await deps.fly.listVolumes(appOf(i)), name, region);
      if (found) return made(found);
    }
    try {
      return made(
        await deps.fly.createVolume(
          appOf(i),
          fork
            ? { name, source_volume_id: old.id, require_unique_zone: false }
            : {
                name,
                region,
                snapshot_id: from?.id,
                size_gb: Math.max(old.size_gb, from?.volume_size ?? 0),
                require_unique_zone: false,
              },
          { nameIsUnique: true },
        ),
      );
    } catch (err) {
      if (!isCapacityError(err)) throw err;
      return {
        kind: 'wait',
        inMs: 0,
        note: `no capacity in ${region} (${err.message}); trying the next region`,
        patch: { regionIndex: index + 1, lastError: `${region}: ${err.message}` },
      };
    }
  }
  const kept = `machine ${r.oldMachineId ?? '-'} and volume ${old.id} are kept`;
  if (!hostOk && !(await snapshotOf()))
    return {
      kind: 'waiting',
      on: 'host_unreachable',
      reason: `the old volume's host is ${old.host_status} and volume ${old.id} has no usable snapshot; ${kept} until the host is back`,
      patch: { regionIndex: 0 },
    };
  const noSnapshot =
    snapshot === null ? `; volume ${old.id} has no snapshot to restore elsewhere` : '';
  const last = r.lastError && r.regionIndex > 0 ? ` (last: ${r.lastError})` : '';
  return {
    kind: 'waiting',
    on: 'insufficient_capacity',
    reason: `no capacity in any allowed region (${regions.join(', ')})${noSnapshot}${last}; ${kept}`,
    patch: { regionIndex: 0 },
  };
}
