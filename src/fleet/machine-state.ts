// Whether anything can still be live on a machine, as Fly reports it: how a feature resolves
// an instance controller call whose outcome is unknown (docs/seams.md). A controller keeps
// its runs and sessions in memory, so a machine that is not running has none left.
import { FlyApiError } from '../adapters/fly/errors.ts';
import type { Deps } from '../deps.ts';

/**
 * - `gone`: Fly reports the machine `stopped`, `failed`, `destroying` or `destroyed`, or
 *   does not know it (404): nothing started on it is live any more.
 * - `up`: any other state (`started`, `starting`, `stopping`, `suspended`, …): what was
 *   started there may be live.
 * - `unknown`: Fly could not be asked; decide nothing.
 */
export type MachineLook =
  | { kind: 'gone'; flyState: string; words: string }
  | { kind: 'up'; flyState: string }
  | { kind: 'unknown'; error: string };

const GONE_STATES = new Set(['stopped', 'failed', 'destroying', 'destroyed']);

/**
 * Looks at one machine through the Fly client (`GET /v1/apps/{app}/machines/{id}`, Fly
 * Machines API "Get a Machine"). Never throws. `words` says what Fly reported, for the
 * `last_error` of what ended with the machine.
 */
export async function lookAtMachine(
  deps: Pick<Deps, 'fly'>,
  appName: string,
  machineId: string,
): Promise<MachineLook> {
  try {
    const machine = await deps.fly.getMachine(appName, machineId);
    if (GONE_STATES.has(machine.state))
      return {
        kind: 'gone',
        flyState: machine.state,
        words: `Fly reports machine ${machineId} ${machine.state}`,
      };
    return { kind: 'up', flyState: machine.state };
  } catch (err) {
    if (err instanceof FlyApiError && err.status === 404)
      return {
        kind: 'gone',
        flyState: 'missing',
        words: `Fly no longer knows machine ${machineId}`,
      };
    return {
      kind: 'unknown',
      error: err instanceof Error ? err.message : String(err),
    };
  }
}
