// "The machine of instance X stopped, failed, vanished or sits on a host that stays
// unreachable": the fleet's verb for reconcile (src/recovery) to say so once it has decided,
// and the features whose live work ran on that machine (CLI runs hold the instance,
// sessions run on it) to end that work before a recovery begins. Reconcile imports neither
// feature and no feature reads another's tables: each registers a listener (src/features.ts),
// as the scheduler does for operations. The table of who wins is docs/seams.md.
import type { RecoveryCause } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';

export type LostMachine = {
  instanceId: string;
  /** The machine the instance had when reconcile looked. */
  machineId: string;
  /**
   * Why reconcile gave it up: `machine_stopped`, `machine_failed`, `machine_destroyed`,
   * `machine_missing` or `host_unreachable` (recovery's causes).
   */
  cause: RecoveryCause;
  /** The state in Fly's listing (null: not listed). */
  flyState: string | null;
  /**
   * True when Fly's listing says the machine is not running (stopped, failed, destroyed or
   * gone): nothing started on it is live. False for a host that stays unreachable: the
   * machine may still run there, so what ran on it is ended but still owed a cancel.
   */
  confirmedDown: boolean;
};

/**
 * A feature's reaction: end its live work on that instance's lost machine, in its own
 * transactions, releasing any hold it has on the instance. Must be idempotent (reconcile
 * says so again each minute while the instance stays down) and must not throw for "nothing
 * to do".
 */
export type MachineLostListener = (
  deps: Pick<Deps, 'db' | 'clock' | 'log' | 'doorbells' | 'config'>,
  lost: LostMachine,
) => Promise<void>;

/** What the words say for each cause, for the `last_error` of the work that ended. */
export function lossInWords(lost: Pick<LostMachine, 'cause' | 'machineId' | 'flyState'>) {
  switch (lost.cause) {
    case 'machine_stopped':
      return `its machine ${lost.machineId} stopped (Fly reports it stopped)`;
    case 'machine_failed':
      return `its machine ${lost.machineId} failed (Fly reports it failed)`;
    case 'machine_destroyed':
      return `its machine ${lost.machineId} was destroyed (Fly reports it ${lost.flyState ?? 'destroyed'})`;
    case 'machine_missing':
      return `its machine ${lost.machineId} vanished (Fly no longer lists it)`;
    case 'host_unreachable':
      return `the host of its machine ${lost.machineId} stayed unreachable`;
    default:
      return `its machine ${lost.machineId} was given up (${lost.cause})`;
  }
}

/**
 * Tells every registered listener that an instance's machine is lost, one after the other;
 * a listener that fails is logged and the others still run (reconcile tries again at its
 * next run, and a hold left in place only delays the recovery to then).
 */
export async function reportMachineLost(
  deps: Pick<Deps, 'db' | 'clock' | 'log' | 'doorbells' | 'config' | 'machineLostListeners'>,
  lost: LostMachine,
): Promise<void> {
  for (const listen of deps.machineLostListeners) {
    try {
      await listen(deps, lost);
    } catch (err) {
      deps.log.error('fleet.machine_lost_listener_failed', {
        instanceId: lost.instanceId,
        machineId: lost.machineId,
        error: err,
      });
    }
  }
}
