import { and, eq } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import { heldBy, released } from '../lib/work/index.ts';
import { ringCleanup, ringFollow } from './follow-ring.ts';
import { type CliRun, nextDelayMs } from './model.ts';

export type FollowRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'ended' | 'held' }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'continued'; run: CliRun }
  | { outcome: 'ended'; run: CliRun }
  | { outcome: 'cleaned'; run: CliRun }
  | { outcome: 'claim_lost' };

/** An `endRun` result as the follow's outcome; a pending cleanup's doorbell is rung. */
export async function ended(
  deps: Pick<Deps, 'doorbells' | 'log'>,
  run: CliRun | null,
): Promise<FollowRun> {
  if (!run) return { outcome: 'claim_lost' };
  await ringCleanup(deps, run);
  return { outcome: 'ended', run };
}

/**
 * Records progress and the next check, gives the claim back and rings the next doorbell,
 * guarded by the claim and by the row still being in the state it was claimed in. The next
 * check is `delayMs` away when given (0: at once, output still to read), else 2 s after new
 * output, doubling to 30 s without. `note` replaces `last_error` of a live run (a terminal
 * row's reason is kept).
 */
export async function continueAfter(
  deps: Pick<Deps, 'db' | 'doorbells' | 'log'>,
  run: CliRun,
  now: Date,
  step: {
    output?: { tail: string; size: number; reported?: number };
    note?: string | null;
    gotOutput: boolean;
    delayMs?: number;
  },
): Promise<FollowRun> {
  const backoff = nextDelayMs(run.followDelayMs, step.gotOutput);
  const delay = step.delayMs ?? backoff;
  const live = run.status === 'starting' || run.status === 'running';
  const [next] = await deps.db
    .update(cliRuns)
    .set({
      ...(step.output ? { outputTail: step.output.tail, outputSize: step.output.size } : {}),
      ...(step.output?.reported !== undefined
        ? { outputReportedSize: Math.max(run.outputReportedSize, step.output.reported) }
        : {}),
      ...(live ? { lastError: step.note ?? null } : {}),
      nextCheckAt: new Date(now.getTime() + delay),
      followDelayMs: step.delayMs === undefined ? backoff : run.followDelayMs,
      updatedAt: now,
      ...released(cliRuns),
    })
    .where(and(heldBy(cliRuns, run), eq(cliRuns.status, run.status)))
    .returning();
  if (!next) return { outcome: 'claim_lost' };
  // Deduplicated on this claim's number: a duplicate of this poll cannot ring twice.
  await ringFollow(deps, next);
  return { outcome: 'continued', run: next };
}
