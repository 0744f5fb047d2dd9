import { eq, inArray, or } from 'drizzle-orm';
import { CLI_RUN_STATUSES, cliRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { claimUnit, later } from '../lib/work/index.ts';
import { cleanUp } from './cleanup.ts';
import { ringFollow } from './follow-ring.ts';
import type { FollowRun } from './follow-write.ts';
import { type CliRun, findRun } from './model.ts';
import { pollRun } from './poll.ts';
import { resumeStart } from './resume-start.ts';
import { cliRunUnits } from './units.ts';

export type { FollowRun } from './follow-write.ts';

/**
 * What a follow doorbell works on: a `starting` run whose start is to be looked up again, a
 * `running` run, or an ended run whose cancel is still owed (`cleanup = 'pending'`).
 */
const followable = () =>
  or(inArray(cliRuns.status, ['starting', 'running']), eq(cliRuns.cleanup, 'pending'));

/** Claims a followable run that is due and not held: one guarded statement. */
async function claimFollow(deps: Deps, runId: string, now: Date): Promise<CliRun | null> {
  return claimUnit(deps.db, cliRunUnits, runId, {
    now,
    leaseUntil: later(now, deps.config.work.leaseMs),
    statuses: CLI_RUN_STATUSES,
    when: followable(),
    set: { updatedAt: now },
  });
}

/**
 * One follow doorbell of a run: claims it (src/lib/work; a duplicate or late doorbell
 * finds it held or not due and does nothing) and, by its state, sends a start whose answer
 * was lost again with its key (src/cli-runs/resume-start.ts), polls a running run and reads
 * its output (src/cli-runs/poll.ts), or sends an ended run's owed cancel
 * (src/cli-runs/cleanup.ts). Each records what it learned guarded by the claim and rings its
 * own continuation.
 */
export async function followCliRun(deps: Deps, input: { runId: string }): Promise<FollowRun> {
  const now = deps.clock.now();
  const run = await claimFollow(deps, input.runId, now);
  if (!run) {
    const current = await findRun(deps.db, input.runId);
    if (!current) return { outcome: 'skipped', reason: 'unknown' };
    const open =
      current.status === 'running' ||
      current.status === 'starting' ||
      current.cleanup === 'pending';
    if (!open) return { outcome: 'skipped', reason: 'ended' };
    if (current.nextCheckAt && current.nextCheckAt > now) {
      // Early (the queue's clock ahead of ours): ring again for the due time, once.
      await ringFollow(deps, current, `early-${current.nextCheckAt.getTime()}`);
      return { outcome: 'early', dueAt: current.nextCheckAt };
    }
    return { outcome: 'skipped', reason: 'held' };
  }
  if (run.status === 'starting') return resumeStart(deps, run);
  if (run.status === 'running') return pollRun(deps, run);
  return cleanUp(deps, run);
}
