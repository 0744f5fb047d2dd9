import type { FlyClient } from './client.ts';
import { FlyApiError, isFlyError } from './errors.ts';
import type { Machine, WaitMachineResponse, WaitState } from './types.ts';

export type WaitForStateOptions = {
  state: WaitState;
  /** The version to wait on; Fly requires it for `stopped`. */
  instanceId?: string;
  /** Overall deadline in milliseconds from now. */
  deadlineMs: number;
  /** Seconds per `wait` call, 1–60 (default 60, Fly's maximum). */
  perCallTimeoutSeconds?: number;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
};

/** States a machine does not leave on its own (docs: machines/machine-states). */
const STUCK = new Set(['failed', 'destroyed', 'launch_failed']);

/**
 * Waits for a machine to reach `state` for longer than one API wait allows: Fly's wait
 * blocks at most 60 s and answers 408 `deadline_exceeded` after that, and callers are
 * expected to wait again (flyctl `WaitForStartOrStop` does, until its own deadline).
 *
 * After each 408 the machine is read once, and the helper stops early when waiting longer
 * cannot succeed (our choice; the API itself would just keep answering 408):
 * - the machine is `failed`, `launch_failed` or `destroyed` (and that is not what was
 *   asked for): FlyApiError 412 `failed_precondition`;
 * - `instanceId` is no longer the machine's version (it was replaced, or an update was
 *   reverted to the previous version, flyctl PR #4878): FlyApiError 412
 *   `failed_precondition` naming both versions.
 *
 * Returns the successful wait's body. Throws FlyApiError 408 `deadline_exceeded` once
 * `deadlineMs` has passed, and any other error of the wait or get calls as is.
 */
export async function waitForMachineState(
  client: FlyClient,
  app: string,
  machineId: string,
  options: WaitForStateOptions,
): Promise<WaitMachineResponse> {
  const now = options.now ?? Date.now;
  const deadline = now() + options.deadlineMs;
  const perCall = options.perCallTimeoutSeconds ?? 60;
  let last: Machine | null = null;
  for (;;) {
    const remainingMs = deadline - now();
    if (remainingMs <= 0) {
      const seen = last ? `; last seen ${last.state} (version ${last.instance_id})` : '';
      throw new FlyApiError({
        status: 408,
        code: 'deadline_exceeded',
        message: `machine ${machineId} did not reach ${options.state} within ${options.deadlineMs} ms${seen}`,
      });
    }
    try {
      return await client.waitMachine(app, machineId, {
        state: options.state,
        instanceId: options.instanceId,
        timeoutSeconds: Math.min(perCall, Math.ceil(remainingMs / 1000)),
      });
    } catch (error) {
      if (!isFlyError(error, 408)) throw error;
    }
    last = await client.getMachine(app, machineId);
    const reason = hopeless(last, options);
    if (reason)
      throw new FlyApiError({ status: 412, code: 'failed_precondition', message: reason });
  }
}

function hopeless(machine: Machine, options: WaitForStateOptions): string | null {
  if (STUCK.has(machine.state) && machine.state !== options.state)
    return `machine ${machine.id} is ${machine.state}; it will not reach ${options.state}`;
  if (options.instanceId && machine.instance_id !== options.instanceId)
    return `machine ${machine.id} is on version ${machine.instance_id}, not ${options.instanceId}; that version was replaced`;
  return null;
}
