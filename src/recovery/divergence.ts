import type { Machine } from '../adapters/fly/types.ts';
import type { ReconcileInstance } from '../fleet/recovery-moves.ts';
import type { RecoveryCause } from './model.ts';

/** What reconcile makes of one instance and its machine. */
export type Divergence =
  /** The instance should run and its machine does not: a recovery. */
  | { kind: 'down'; cause: RecoveryCause; flyState: string | null; hostStatus: string | null }
  /** The machine looks started but its host is unreachable: down once it lasts. */
  | { kind: 'unreachable'; flyState: string; hostStatus: string }
  /** Recorded and shown, not acted on. */
  | { kind: 'image_mismatch'; detail: { expected: string | null; running: string | null } }
  | { kind: 'running_while_stopped'; detail: { machineState: string } };

const DOWN_STATES: Record<string, RecoveryCause> = {
  stopped: 'machine_stopped',
  failed: 'machine_failed',
  destroyed: 'machine_destroyed',
  destroying: 'machine_destroyed',
};

const RUNNING_STATES = new Set(['started', 'starting', 'restarting']);

/**
 * Compares one instance with its machine as Fly lists it (`machine` undefined: not in the
 * listing). Acted on only when the instance should be running — status `running`, no
 * action in flight (so not being stopped, restarted or destroyed by us) — and the machine
 * is `stopped`, `failed`, `destroyed` or missing, or started on an unreachable host
 * (`host_status`, docs: machines-resource). Other divergences are for the record: a
 * machine running another image than the database expects, a stopped instance whose
 * machine runs. Null: nothing diverges.
 */
export function divergenceOf(
  instance: ReconcileInstance,
  machine: Machine | undefined,
): Divergence | null {
  if (instance.busyWithOperation || !instance.machineId) return null;
  const hostStatus = machine?.host_status ?? null;
  if (instance.status === 'running') {
    if (!machine)
      return { kind: 'down', cause: 'machine_missing', flyState: null, hostStatus: null };
    const down = DOWN_STATES[machine.state];
    if (down)
      return {
        kind: 'down',
        cause: hostStatus === 'unreachable' ? 'host_unreachable' : down,
        flyState: machine.state,
        hostStatus,
      };
    if (hostStatus === 'unreachable')
      return { kind: 'unreachable', flyState: machine.state, hostStatus };
    const image = machine.config?.image ?? null;
    if (image && instance.imageTag && image !== instance.imageTag && machine.state === 'started')
      return { kind: 'image_mismatch', detail: { expected: instance.imageTag, running: image } };
    return null;
  }
  if (instance.status === 'stopped' && machine && RUNNING_STATES.has(machine.state))
    return { kind: 'running_while_stopped', detail: { machineState: machine.state } };
  return null;
}
