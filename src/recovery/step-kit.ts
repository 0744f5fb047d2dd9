// What every recovery step shares: its input, what it may decide, and small Fly helpers.
import { isFlyError } from '../adapters/fly/errors.ts';
import type { Deps } from '../deps.ts';
import type { RecoverableInstance } from '../fleet/recovery-moves.ts';
import type { Recovery, RecoveryStep, RecoveryWait } from './model.ts';
import type { RecoveryPatch } from './store.ts';

/** What a step decided. */
export type StepOutcome =
  /** Enter `to` (after `inMs`). */
  | { kind: 'advance'; to: RecoveryStep; patch?: RecoveryPatch; note?: string; inMs?: number }
  /** Not done yet, nothing wrong (a machine still starting): look again in `inMs`. */
  | { kind: 'wait'; inMs: number; note: string; patch?: RecoveryPatch }
  /**
   * No replacement can be made now and nothing may be destroyed: keep everything and look
   * again after the wait backoff (`waitBackoffMs`), shown as waiting for `on` with `reason`.
   */
  | { kind: 'waiting'; on: RecoveryWait; reason: string; patch?: RecoveryPatch }
  /** A failed try: counts against the step's retries, then backs off. */
  | { kind: 'retry'; error: string; inMs?: number; patch?: RecoveryPatch }
  /** Failed for good (in place: relocation follows, if allowed). */
  | { kind: 'fail'; error: string }
  /** Ended well. */
  | { kind: 'succeed'; machineVersion: string | null; patch?: RecoveryPatch; note?: string }
  /** The replacement is healthy: cut over, keeping the old volume until `retainUntil`. */
  | { kind: 'cut_over'; retainUntil: Date | null };

export type StepInput = {
  deps: Deps;
  r: Recovery;
  instance: RecoverableInstance;
  /** What is left of the callback's budget (ms): how long a `wait` may block. */
  budgetMs: number;
};

export const appOf = (i: StepInput) => i.instance.appName;

const waitSeconds = (budgetMs: number) => Math.max(1, Math.min(10, Math.floor(budgetMs / 1000)));

/** Waits (within the budget) for `machineId` on `version` to be started; false on 408. */
export async function startedWithin(i: StepInput, machineId: string, version: string | undefined) {
  try {
    await i.deps.fly.waitMachine(appOf(i), machineId, {
      state: 'started',
      instanceId: version,
      timeoutSeconds: waitSeconds(i.budgetMs),
    });
    return true;
  } catch (err) {
    if (isFlyError(err, 408)) return false;
    throw err;
  }
}

/** The regions to try, in order: the old one, then the configured fallbacks. */
export function regionsFor(r: Pick<Recovery, 'oldRegion'>, fallbacks: string[]): string[] {
  return [...new Set([r.oldRegion, ...fallbacks])];
}

/** The newest snapshot of `volumeId` that can be restored, or null. */
export async function newestSnapshot(i: StepInput, volumeId: string) {
  const snapshots = await i.deps.fly.listSnapshots(appOf(i), volumeId);
  const usable = snapshots
    .filter((s) => s.status === 'created')
    .sort((a, b) => b.created_at.localeCompare(a.created_at));
  return usable[0] ?? null;
}

/**
 * The replacement machine's name: the instance's, with the recovery's first 8 hex digits
 * (the old machine keeps the instance's name until it is destroyed, and Fly machine names
 * are unique per app).
 */
export function replacementName(instanceName: string, recoveryId: string): string {
  return `${instanceName.slice(0, 54)}-${recoveryId.replace(/-/g, '').slice(0, 8)}`;
}

/** A point `ms` after now on the deps' clock. */
export const fromNow = (i: StepInput, ms: number) => new Date(i.deps.clock.now().getTime() + ms);
