// The recovery's Fly calls that change something, each ending done, not done, or unknown
// resolved by looking. A call whose answer is lost (no answer, a timeout, a 5xx that may
// follow the effect) is not taken for a failure: the resource's own state is read back and
// decides. Only when the look says the effect did not happen is the original error thrown,
// for the step to try again later; every call here is safe to send again.
import type { FlyClient } from '../adapters/fly/api.ts';
import { DELETED_VOLUME_STATES } from '../adapters/fly/create-volume.ts';
import { FlyApiError, isFlyError } from '../adapters/fly/errors.ts';
import type { Machine } from '../adapters/fly/types.ts';

/** A failure after which the effect may or may not have happened: no answer, 408, 5xx. */
export function isAmbiguous(err: unknown): err is FlyApiError {
  return (
    err instanceof FlyApiError && (err.status === 0 || err.status === 408 || err.status >= 500)
  );
}

/** The machine, or null when Fly no longer knows it (404). */
export async function machineOrNull(fly: FlyClient, app: string, id: string) {
  try {
    return await fly.getMachine(app, id);
  } catch (err) {
    if (isFlyError(err, 404)) return null;
    throw err;
  }
}

const GONE = new Set(['destroying', 'destroyed']);
const UP = new Set(['starting', 'started', 'restarting']);
const QUIET = new Set([
  'stopped',
  'suspended',
  'failed',
  'created',
  'launch_failed',
  'destroying',
  'destroyed',
]);

/** Fly's 412 for a start while one is already under way: the start is in effect. */
const alreadyStarting = (err: unknown) =>
  isFlyError(err, 412) && /still active|attempting to start/.test(String(err));

/**
 * Sends `call`; on an ambiguous failure, `settled()` looks: true means the effect is there
 * (done), false means it is not (the error is thrown: not done, try again later).
 */
async function known(call: () => Promise<unknown>, settled: () => Promise<boolean>) {
  try {
    await call();
  } catch (err) {
    if (!isAmbiguous(err)) throw err;
    let there: boolean;
    try {
      there = await settled();
    } catch {
      throw err;
    }
    if (!there) throw err;
  }
}

/**
 * Force-destroys a machine (Fly: machines-resource "Destroy a Machine", `force`). Done when
 * Fly answers, when it no longer knows the machine (404), or — after a lost answer — when
 * the machine reads `destroying` or `destroyed`. On an unreachable host Fly marks the
 * machine `destroying` and destroys it when the host comes back.
 */
export async function destroyMachineKnown(fly: FlyClient, app: string, id: string) {
  try {
    await known(
      () => fly.deleteMachine(app, id, { force: true }),
      async () => {
        const m = await machineOrNull(fly, app, id);
        return !m || GONE.has(m.state);
      },
    );
  } catch (err) {
    if (!isFlyError(err, 404)) throw err;
  }
}

/**
 * Starts a machine. Done when Fly answers, when a start is already under way (412), or —
 * after a lost answer — when the machine reads starting or started. Other errors (a
 * capacity refusal, an unreachable host) are thrown as Fly sent them.
 */
export async function startMachineKnown(fly: FlyClient, app: string, id: string) {
  try {
    await known(
      () => fly.startMachine(app, id),
      async () => UP.has((await fly.getMachine(app, id)).state),
    );
  } catch (err) {
    if (!alreadyStarting(err)) throw err;
  }
}

/**
 * Stops a machine. Done when Fly answers or — after a lost answer — when the machine reads
 * stopping or a state in which it runs nothing. The caller waits for `stopped` itself.
 */
export async function stopMachineKnown(fly: FlyClient, app: string, id: string) {
  await known(
    () => fly.stopMachine(app, id),
    async () => {
      const m = await machineOrNull(fly, app, id);
      return !m || m.state === 'stopping' || QUIET.has(m.state);
    },
  );
}

/** True when the machine runs nothing (stopped, failed, gone …), so its volume is still. */
export const isQuiet = (m: Machine | null) => !m || QUIET.has(m.state);

/**
 * Deletes a volume (soft delete, Fly: volumes-resource "Destroy a volume"). Returns
 * `gone` when Fly no longer knows it or it is already being destroyed. After a lost answer
 * the volume is read: a destroyed state means done. A 412 (still attached) is thrown.
 */
export async function deleteVolumeKnown(
  fly: FlyClient,
  app: string,
  id: string,
): Promise<'deleted' | 'gone'> {
  const gone = async () => {
    try {
      return DELETED_VOLUME_STATES.has((await fly.getVolume(app, id)).state);
    } catch (err) {
      if (isFlyError(err, 404)) return true;
      throw err;
    }
  };
  try {
    await known(() => fly.deleteVolume(app, id), gone);
    return 'deleted';
  } catch (err) {
    if (isFlyError(err, 404)) return 'gone';
    throw err;
  }
}
