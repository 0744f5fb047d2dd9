// The in-place start: the old machine started again on its own host and volume.

import { machineOrNull, startMachineKnown } from './fly-effects.ts';
import { IN_PLACE_DEADLINE_MS } from './model.ts';
import { isCapacityError } from './old-volume.ts';
import { appOf, fromNow, type StepInput, type StepOutcome, startedWithin } from './step-kit.ts';

/**
 * In place: the old machine, started once by us (as Fly's own restart policy would), if its
 * host is `ok`; `started` and a healthy probe end the recovery in place. A host that is not
 * `ok`, or a start refused for capacity, leads to relocation when it is allowed; when it is
 * not, the recovery waits for the host (or for capacity) and keeps the machine. A machine
 * gone, a start refused otherwise, a machine not started by the step's deadline or a probe
 * failing fail the step (relocation follows when allowed).
 */
export async function inPlaceStart(i: StepInput): Promise<StepOutcome> {
  const { deps, r } = i;
  const relocation = deps.config.recovery.relocation;
  const machineId = r.oldMachineId;
  if (!machineId) return { kind: 'fail', error: 'the instance has no machine to start' };
  const machine = await machineOrNull(deps.fly, appOf(i), machineId);
  if (!machine) return { kind: 'fail', error: `machine ${machineId} is gone` };
  if (machine.host_status && machine.host_status !== 'ok') {
    const why = `the machine's host is ${machine.host_status}`;
    if (relocation) return { kind: 'fail', error: why };
    return {
      kind: 'waiting',
      on: 'host_unreachable',
      reason: `${why}; relocation is off, so machine ${machineId} is kept until its host is back`,
      patch: { stepDeadlineAt: null },
    };
  }
  if (machine.state === 'destroyed' || machine.state === 'destroying')
    return { kind: 'fail', error: `machine ${machineId} is ${machine.state}` };
  let deadline = {};
  if (machine.state !== 'started') {
    if (r.stepDeadlineAt && deps.clock.now() > r.stepDeadlineAt)
      return { kind: 'fail', error: `machine ${machineId} did not start in time` };
    try {
      await startMachineKnown(deps.fly, appOf(i), machineId);
    } catch (err) {
      if (!isCapacityError(err)) throw err;
      const why = `no capacity to start machine ${machineId} in ${machine.region} (${err.message})`;
      if (relocation) return { kind: 'fail', error: why };
      return {
        kind: 'waiting',
        on: 'insufficient_capacity',
        reason: why,
        patch: { stepDeadlineAt: null },
      };
    }
    // The deadline runs from the first start sent (a wait for the host left it unset).
    if (!r.stepDeadlineAt) deadline = { stepDeadlineAt: fromNow(i, IN_PLACE_DEADLINE_MS) };
    if (!(await startedWithin(i, machineId, machine.instance_id)))
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
    instanceId: machine.instance_id,
  });
  if (!probe.healthy)
    return { kind: 'retry', error: `health probe: ${probe.detail}`, inMs: 3000, patch: deadline };
  return {
    kind: 'succeed',
    machineVersion: machine.instance_id,
    patch: { inPlace: true, newMachineVersion: machine.instance_id },
    note: 'started in place',
  };
}
