import { FlyApiError } from '../../adapters/fly/errors.ts';
import type { Machine } from '../../adapters/fly/types.ts';
import type { Deps } from '../../deps.ts';
import type { Operation } from './model.ts';

/** What a step decided. `next`: move on (with a patch); `retry`: try again later; `done`/`fail`: finish. */
export type StepResult =
  | {
      kind: 'next';
      patch: Partial<
        Pick<Operation, 'step' | 'expectedVersion' | 'previousVersion' | 'probeFailures'>
      >;
    }
  | { kind: 'retry'; inMs: number; note: string; patch?: Partial<Pick<Operation, 'probeFailures'>> }
  | { kind: 'done'; version: string | null }
  | { kind: 'fail'; error: string };

export type StepInstance = { appName: string; machineId: string; imageTag: string | null };

/** Turns a Fly error into retry or fail: transient (network, 408, 429, 5xx, lease held) retries; the rest fails. */
export function classifyFlyError(err: unknown, what: string): StepResult {
  if (!(err instanceof FlyApiError)) throw err;
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

/**
 * The Fly call of restart, version change, stop and start. Before calling, the machine's
 * version is recorded (`previousVersion`, committed by the caller); when a step runs again
 * after a crash or an ambiguous answer and the machine already has a newer version, that
 * update is adopted instead of updating twice.
 */
export async function callStep(
  deps: Deps,
  op: Operation,
  instance: StepInstance,
  machine: Machine,
): Promise<StepResult> {
  const { appName, machineId } = instance;
  if (op.kind === 'stop') {
    await deps.fly.stopMachine(appName, machineId);
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  }
  if (op.kind === 'start') {
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
  if (op.previousVersion && machine.instance_id !== op.previousVersion)
    return { kind: 'next', patch: { step: 'settle', expectedVersion: machine.instance_id } };
  const config = machine.config ?? machine.incomplete_config;
  if (!config || machine.host_status === 'unreachable')
    return {
      kind: 'retry',
      inMs: 5000,
      note: 'update: the machine host is unreachable; waiting for it to come back',
    };
  const image = op.kind === 'version_change' ? (op.targetImageTag ?? config.image) : config.image;
  const updated = await deps.fly.updateMachine(appName, machineId, {
    config: { ...config, image },
  });
  return { kind: 'next', patch: { step: 'settle', expectedVersion: updated.instance_id } };
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
  instance: StepInstance,
  budgetMs: number,
): Promise<StepResult> {
  const want = op.kind === 'stop' ? 'stopped' : 'started';
  const expected = op.expectedVersion ?? '';
  const machine = await deps.fly.getMachine(instance.appName, instance.machineId);
  if (machine.state === want && machine.instance_id === expected)
    return op.kind === 'stop'
      ? { kind: 'done', version: expected }
      : { kind: 'next', patch: { step: 'probe', probeFailures: 0 } };
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
  const seconds = Math.min(10, Math.floor(budgetMs / 1000));
  if (seconds < 1)
    return { kind: 'retry', inMs: 0, note: `waiting for ${want} (currently ${machine.state})` };
  try {
    await deps.fly.waitMachine(instance.appName, instance.machineId, {
      state: want,
      instanceId: expected,
      timeoutSeconds: seconds,
    });
  } catch (err) {
    if (err instanceof FlyApiError && err.status === 408)
      return { kind: 'retry', inMs: 0, note: `waiting for ${want} (currently ${machine.state})` };
    throw err;
  }
  return { kind: 'next', patch: {} };
}

/** Unhealthy probes in a row before the action fails. */
export const MAX_PROBE_FAILURES = 5;

/** Asks the machine's gateway whether the expected version answers healthy. */
export async function probeStep(
  deps: Deps,
  op: Operation,
  instance: StepInstance,
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
