// The replacement machine: created without starting it, then — only once it exists — the
// old machine is destroyed and the replacement started, so the two never run at once.
import { REQUEST_ID_KEY } from '../adapters/fly/create-machine.ts';
import { isFlyError } from '../adapters/fly/errors.ts';
import type { Machine } from '../adapters/fly/types.ts';
import { machineConfigFor } from '../fleet/machine-config.ts';
import { createMachineOnce } from '../fleet/operations/provision-step.ts';
import {
  deleteVolumeKnown,
  destroyMachineKnown,
  machineOrNull,
  startMachineKnown,
} from './fly-effects.ts';
import { START_DEADLINE_MS } from './model.ts';
import { isCapacityError } from './old-volume.ts';
import {
  appOf,
  fromNow,
  replacementName,
  type StepInput,
  type StepOutcome,
  startedWithin,
} from './step-kit.ts';
import { saveProgress } from './store.ts';

const live = (ms: Machine[]) => ms.find((m) => m.state !== 'destroyed' && m.state !== 'destroying');

/**
 * `volume_created`: the replacement machine, built by the same function provisioning uses
 * (the instance's image, its pin winning, the new volume mounted), tagged with the
 * recovery's id and created with `skip_launch`: it exists, placed on the new volume's host,
 * but runs nothing yet. A capacity refusal removes the new volume and goes back one step
 * for the next region; a volume not mountable yet (a fork still being created) is waited
 * for.
 */
export async function createReplacementMachine(i: StepInput): Promise<StepOutcome> {
  const { deps, r, instance } = i;
  const volumeId = r.newVolumeId;
  const region = r.regionTried ?? r.oldRegion;
  if (!volumeId) return { kind: 'fail', error: 'no replacement volume was recorded' };
  const tagged = () => deps.fly.listMachines(appOf(i), { metadata: { [REQUEST_ID_KEY]: r.id } });
  const image = instance.pinnedImageTag ?? instance.imageTag;
  if (!image) return { kind: 'fail', error: 'the instance has no image' };
  let machine = r.stepClaims > 1 ? live(await tagged()) : undefined;
  if (!machine) {
    try {
      machine = await createMachineOnce(deps, appOf(i), tagged, {
        name: replacementName(instance.name, r.id),
        region,
        skip_launch: true,
        config: await machineConfigFor(deps, {
          instanceId: instance.id,
          image,
          volumeId,
          metadata: { [REQUEST_ID_KEY]: r.id },
        }),
      });
    } catch (err) {
      if (isCapacityError(err)) {
        await deleteVolumeKnown(deps.fly, appOf(i), volumeId);
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
      stepDeadlineAt: fromNow(i, START_DEADLINE_MS),
    },
    note: `machine ${machine.id} in ${region}, not started`,
  };
}

/**
 * The old machine out of the way, now that its replacement exists: force-destroyed, then
 * read back. Done when Fly no longer knows it or it is `destroyed`; `destroying` counts as
 * done only on an unreachable host (Fly destroys it there as soon as the host is back and
 * keeps it from running meanwhile); on a reachable host it is waited for.
 */
async function retireOldMachine(i: StepInput): Promise<'done' | 'pending'> {
  const { deps, r } = i;
  const id = r.oldMachineId;
  if (!id || r.oldMachineDestroyedAt) return 'done';
  // A rerun reads first, so a machine already going is not destroyed again.
  const before = r.stepClaims > 1 ? await machineOrNull(deps.fly, appOf(i), id) : undefined;
  if (before !== null && before?.state !== 'destroyed' && before?.state !== 'destroying')
    await destroyMachineKnown(deps.fly, appOf(i), id);
  const after = await machineOrNull(deps.fly, appOf(i), id);
  const done =
    !after ||
    after.state === 'destroyed' ||
    (after.state === 'destroying' && (after.host_status ?? 'ok') !== 'ok');
  if (!done) return 'pending';
  await saveProgress(deps.db, r, { oldMachineDestroyedAt: deps.clock.now() }, deps.clock.now());
  return 'done';
}

/**
 * `machine_created`: the old machine destroyed (see {@link retireOldMachine}), then the
 * replacement started and waited for (one wait per callback, re-waiting after 408 until
 * the step's 10-minute deadline), then probed. A start refused for capacity waits for
 * capacity, keeping the replacement.
 */
export async function startReplacement(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  const machineId = r.newMachineId;
  if (!machineId) return { kind: 'fail', error: 'no replacement machine was recorded' };
  if ((await retireOldMachine(i)) === 'pending') {
    if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
      return { kind: 'fail', error: `machine ${r.oldMachineId} was not destroyed in time` };
    return {
      kind: 'wait',
      inMs: 1000,
      note: `waiting for machine ${r.oldMachineId} to be destroyed`,
    };
  }
  const machine = await machineOrNull(deps.fly, appOf(i), machineId);
  if (!machine || machine.state === 'destroyed' || machine.state === 'destroying')
    return { kind: 'fail', error: `the replacement machine ${machineId} is gone` };
  let deadline = {};
  if (machine.state !== 'started') {
    if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
      return {
        kind: 'fail',
        error: `machine ${machineId} did not reach started within ${START_DEADLINE_MS / 60_000} minutes`,
      };
    if (machine.state !== 'starting')
      try {
        await startMachineKnown(deps.fly, appOf(i), machineId);
      } catch (err) {
        if (!isCapacityError(err)) throw err;
        return {
          kind: 'waiting',
          on: 'insufficient_capacity',
          reason: `no capacity to start machine ${machineId} in ${machine.region} (${err.message}); the replacement is kept`,
          patch: { stepDeadlineAt: null },
        };
      }
    if (!r.stepDeadlineAt) deadline = { stepDeadlineAt: fromNow(i, START_DEADLINE_MS) };
    if (!(await startedWithin(i, machineId, r.newMachineVersion ?? undefined)))
      return {
        kind: 'wait',
        inMs: 1000,
        note: `waiting for machine ${machineId} to start`,
        patch: deadline,
      };
  }
  const probe = await deps.gateway.probe({
    appName: appOf(i),
    machineId,
    instanceId: r.newMachineVersion ?? undefined,
  });
  if (!probe.healthy)
    return { kind: 'retry', error: `health probe: ${probe.detail}`, inMs: 3000, patch: deadline };
  return { kind: 'advance', to: 'machine_started', note: `machine ${machineId} is healthy` };
}
