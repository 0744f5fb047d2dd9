import { REQUEST_ID_KEY } from '../../adapters/fly/create-machine.ts';
import { FlyApiError } from '../../adapters/fly/errors.ts';
import type { Deps } from '../../deps.ts';
import { machineConfigFor } from '../machine-config.ts';
import type { Operation } from './model.ts';
import type { StepPatch } from './store.ts';

/** What a step decided. `next`: move on (with a patch); `retry`: try again later; `done`/`fail`: finish. */
export type StepResult =
  | { kind: 'next'; patch: StepPatch }
  | { kind: 'retry'; inMs: number; note: string; patch?: StepPatch }
  | { kind: 'done'; version: string | null }
  | { kind: 'fail'; error: string };

export type StepTarget = { appName: string; machineId: string; imageTag: string | null };

/**
 * Turns a Fly error into retry or fail: transient (network, timeout, 408, 429, 5xx, lease
 * held) retries; the rest fails. After a timeout the retry waits `timeoutMs` more (ms), so a
 * request that was still on its way has landed before the step looks again.
 */
export function classifyFlyError(err: unknown, what: string, timeoutMs = 0): StepResult {
  if (!(err instanceof FlyApiError)) throw err;
  if (err.status === 0 && err.code === 'deadline_exceeded')
    return {
      kind: 'retry',
      inMs: timeoutMs + 1000,
      note: `${what}: Fly did not answer in time (${err.message})`,
    };
  if (err.status === 0 || err.status === 408 || err.status >= 500)
    return {
      kind: 'retry',
      inMs: 2000,
      note: `${what}: Fly did not answer (${err.status || 'network'}: ${err.message})`,
    };
  if (err.status === 429)
    return { kind: 'retry', inMs: err.retryAfterMs ?? 2000, note: `${what}: rate limited by Fly` };
  if (err.status === 409 && /lease currently held/.test(err.message))
    return { kind: 'retry', inMs: 5000, note: `${what}: the machine is leased by someone else` };
  if (err.status === 404)
    return { kind: 'fail', error: `${what}: the machine no longer exists on Fly (${err.message})` };
  if (
    err.status === 412 ||
    err.code === 'insufficient_capacity' ||
    /insufficient|capacity/i.test(err.message)
  )
    return { kind: 'fail', error: `${what}: Fly has no capacity for it (${err.message})` };
  return { kind: 'fail', error: `${what}: Fly refused it (${err.status} ${err.message})` };
}

/** The state an operation must leave the machine in. */
export const wantedState = (op: Pick<Operation, 'kind' | 'expectedState'>) =>
  op.expectedState ?? (op.kind === 'stop' ? 'stopped' : 'started');

const isConcurrentUpdate = (err: unknown) =>
  err instanceof FlyApiError && err.status === 409 && /concurrent update/.test(err.message);

/**
 * The Fly call of restart, version change, stop and start.
 *
 * An update (restart, version change) is made safe to repeat without writing anything first:
 * the config it sends carries the operation's id in `metadata.fleetwarden_request_id`, and
 * `current_version` is the `instance_id` just read (docs: machines-resource, "Update a
 * Machine"; a mismatch is a 409). So a step that runs again after a crash or an ambiguous
 * answer finds its own tag on the machine and adopts that version instead of updating
 * twice, and two handlers that both read the machine cannot both update it: the second
 * gets the 409, reads again and adopts. A stopped machine's version change is sent with
 * `skip_launch` and expected to stay stopped.
 */
export async function callStep(deps: Deps, op: Operation, target: StepTarget): Promise<StepResult> {
  const { appName, machineId } = target;
  if (op.kind === 'stop') {
    const machine = await deps.fly.getMachine(appName, machineId);
    await deps.fly.stopMachine(appName, machineId);
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  }
  if (op.kind === 'start') {
    const machine = await deps.fly.getMachine(appName, machineId);
    try {
      await deps.fly.startMachine(appName, machineId);
    } catch (err) {
      // Already starting or started: nothing to do but wait for it.
      if (
        !(
          err instanceof FlyApiError &&
          err.status === 412 &&
          /still active|attempting to start/.test(err.message)
        )
      )
        throw err;
    }
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  }
  return updateOnce(deps, op, target, false);
}

async function updateOnce(
  deps: Deps,
  op: Operation,
  target: StepTarget,
  reread: boolean,
): Promise<StepResult> {
  const { appName, machineId } = target;
  const machine = await deps.fly.getMachine(appName, machineId);
  const config = machine.config ?? machine.incomplete_config;
  if (config?.metadata?.[REQUEST_ID_KEY] === op.id)
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  if (!config || machine.host_status === 'unreachable')
    return {
      kind: 'retry',
      inMs: 5000,
      note: 'update: the machine host is unreachable; waiting for it to come back',
    };
  const image = op.kind === 'version_change' ? (op.targetImageTag ?? config.image) : config.image;
  try {
    const updated = await deps.fly.updateMachine(appName, machineId, {
      config: await machineConfigFor(deps, {
        instanceId: op.instanceId,
        image,
        base: config,
        metadata: { [REQUEST_ID_KEY]: op.id },
      }),
      current_version: machine.instance_id,
      ...(wantedState(op) === 'stopped' ? { skip_launch: true } : {}),
    });
    return { kind: 'next', patch: { step: 'settle', expectedVersion: updated.instance_id } };
  } catch (err) {
    if (!isConcurrentUpdate(err)) throw err;
    // Someone changed the machine between our read and our update: if it was us (a stalled
    // handler of this operation), the tag says so; otherwise try again on the new version.
    if (!reread) return updateOnce(deps, op, target, true);
    return {
      kind: 'retry',
      inMs: 2000,
      note: 'update: the machine was changed by someone else while updating it',
    };
  }
}

const DEAD = new Set(['failed', 'launch_failed', 'destroyed', 'destroying']);

/**
 * Waits (within `budgetMs`) for the machine to be started (stopped, for a stop) on the
 * expected version. A machine that settles on another version after the update answered
 * with a new one is a silent revert (the image failed to start and Fly rolled back,
 * flyctl #4878): failed, naming both versions.
 */
export async function settleStep(
  deps: Deps,
  op: Operation,
  instance: StepTarget,
  budgetMs: number,
): Promise<StepResult> {
  const want = wantedState(op);
  const expected = op.expectedVersion ?? '';
  const reached: StepResult =
    want === 'stopped'
      ? { kind: 'done', version: expected }
      : { kind: 'next', patch: { step: 'probe', probeFailures: 0 } };
  // Wait first (Fly answers as soon as the version reaches the state), and read the machine
  // only when the wait did not see it: one call in the common case.
  const seconds = Math.min(10, Math.floor(budgetMs / 1000));
  if (seconds >= 1) {
    try {
      await deps.fly.waitMachine(instance.appName, instance.machineId, {
        state: want,
        instanceId: expected,
        timeoutSeconds: seconds,
      });
      return reached;
    } catch (err) {
      if (!(err instanceof FlyApiError && err.status === 408)) throw err;
    }
  }
  const machine = await deps.fly.getMachine(instance.appName, instance.machineId);
  if (machine.state === want && machine.instance_id === expected) return reached;
  if (
    machine.instance_id !== expected &&
    (machine.state === 'started' || machine.state === 'stopped')
  )
    return {
      kind: 'fail',
      error: `The machine settled ${machine.state} on version ${machine.instance_id} (${machine.config?.image ?? 'unknown image'}), not on the updated version ${expected}: the update was reverted.`,
    };
  if (DEAD.has(machine.state))
    return { kind: 'fail', error: `The machine is ${machine.state} instead of ${want}.` };
  if (machine.host_status === 'unreachable')
    return { kind: 'retry', inMs: 5000, note: 'the machine host is unreachable' };
  return { kind: 'retry', inMs: 0, note: `waiting for ${want} (currently ${machine.state})` };
}

/** Unhealthy probes in a row before the action fails. */
export const MAX_PROBE_FAILURES = 5;

/** Asks the machine's gateway whether the expected version answers healthy. */
export async function probeStep(
  deps: Deps,
  op: Operation,
  instance: StepTarget,
): Promise<StepResult> {
  const result = await deps.gateway.probe({
    appName: instance.appName,
    machineId: instance.machineId,
    instanceId: op.expectedVersion ?? undefined,
  });
  if (result.healthy) return { kind: 'done', version: op.expectedVersion };
  const failures = op.probeFailures + 1;
  if (failures >= MAX_PROBE_FAILURES)
    return {
      kind: 'fail',
      error: `The health probe failed ${failures} times in a row: ${result.detail}`,
    };
  return {
    kind: 'retry',
    inMs: 3000,
    note: `health probe: ${result.detail}`,
    patch: { probeFailures: failures },
  };
}
