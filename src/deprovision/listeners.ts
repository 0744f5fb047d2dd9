// The features whose live work runs on an instance being deprovisioned (the scheduler's
// pending targets, a CLI run, agents and their sessions) react through listeners they
// register (src/features.ts), as they do for a lost machine: the deprovision imports none
// of them and reads none of their tables. The table of who wins is docs/seams.md.
import type { Ctx } from '../deps.ts';

export type DeprovisionEvent = {
  instanceId: string;
  deprovisionId: string;
  /** The machine being (or that was) destroyed; null when the instance had none. */
  machineId: string | null;
  /**
   * `ending_work`: the instance is `destroying`, its machine still exists: end or cancel the
   * work on it. `machine_destroyed`: Fly no longer runs the machine: nothing on it is live.
   */
  phase: 'ending_work' | 'machine_destroyed';
};

/** The reason every ended piece of work gives. */
export const DEPROVISION_REASON = 'the instance is being deprovisioned';

/**
 * A feature's reaction to one phase of a deprovision, in its own transactions, as the
 * deprovision's system actor. Must be idempotent (a step that runs again after a crash
 * says so again) and must not throw for "nothing to do"; a throw makes the step try again.
 */
export type DeprovisionListener = (ctx: Ctx, event: DeprovisionEvent) => Promise<void>;
