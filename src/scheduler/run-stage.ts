import { and, eq, min, sql } from 'drizzle-orm';
import { scheduledActionTargets } from '../../db/schema/index.ts';
import type { Deps } from '../deps.ts';
import type { Operation } from '../fleet/operations/model.ts';
import { stepDoorbell } from '../fleet/operations/model.ts';
import { type Chunk, claimChunk } from './claim-chunk.ts';
import { CLAIM_CHUNK, type Stage, stageDoorbell } from './model.ts';
import { ringStage } from './outcome.ts';

export type StageRun =
  | {
      outcome: 'skipped';
      /** `full`: at its own maxInFlight; `at_cap`: at the deployment-wide cap. */
      reason: 'unknown' | 'not_live' | 'paused' | 'waiting_for_previous' | 'full' | 'at_cap';
    }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'progressed'; started: number; skipped: number; failed: number; deferred: number };

/**
 * A stage held back by the deployment-wide cap tries again this often (ms): other actions'
 * finishing operations do not ring it (that would cost every finish a query), so it polls,
 * with one doorbell per stage per due time, while the cap is full.
 */
const CAP_RETRY_MS = 5_000;

/**
 * A stage's doorbell. Under the stage lock, when the action is live and the stage due and
 * the one before it finished, claims due targets up to the free slots (the action's
 * `maxInFlight` and the deployment's cap), chunk by chunk while the step budget lasts,
 * creating each one's operation in the claiming transaction; each chunk's operation
 * doorbells go out in one batch after its commit. Then:
 * - slots still free and due targets left (the budget ran out): it rings itself once more;
 * - slots full: nothing — finishing operations ring the stage when a wave has freed;
 * - busy instances deferred: a doorbell for the earliest retry time;
 * - held back by the deployment-wide cap: a doorbell in 5 s;
 * - an early doorbell (QStash's clock ahead of ours): waits for the due time when it is at
 *   most 5 s away, else rings again for it (once per due time).
 * The claim itself is claim-chunk.ts; the checks of each target, decide.ts.
 * Idempotent: duplicates find nothing to claim.
 */
export async function runStage(
  deps: Deps,
  input: { stageId: string; messageId?: string | null },
): Promise<StageRun> {
  const started = performance.now();
  const total = { started: 0, skipped: 0, failed: 0, deferred: 0 };
  let last: Chunk | null = null;
  // A chunk's doorbells are published while the next chunk is claimed (publishes stay in
  // order, and all of them finish before this callback answers).
  let publishing: Promise<void> = Promise.resolve();
  let waited = false;
  for (;;) {
    const now = deps.clock.now();
    const chunk = await claimChunk(deps, input.stageId, now);
    if ('outcome' in chunk) {
      if (chunk.outcome === 'early') {
        // A little early (QStash's clock ahead of ours): wait here, once, and claim.
        const ahead = chunk.dueAt.getTime() - now.getTime();
        if (!waited && ahead <= Math.min(EARLY_WAIT_MS, deps.config.work.stepBudgetMs)) {
          waited = true;
          await sleep(ahead);
          continue;
        }
        await ringEarly(deps, input, chunk.dueAt);
      }
      if (chunk.outcome === 'skipped' && chunk.reason === 'at_cap')
        await ringAtCap(deps, input.stageId, now);
      if (!last) return chunk;
      break;
    }
    last = chunk;
    for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += chunk.counts[k];
    const ops = chunk.ops;
    publishing = publishing.then(() => ringOperations(deps, ops));
    if (chunk.settled?.nextDue)
      await ringStage(deps, chunk.settled.nextDue, `after-${chunk.stage.id}`, now);
    if (chunk.capped && chunk.stage.pending > 0) {
      await ringAtCap(deps, chunk.stage.id, now);
      break;
    }
    const more = chunk.claimed === CLAIM_CHUNK && chunk.room > 0;
    if (!more) break;
    if (performance.now() - started > deps.config.work.stepBudgetMs) {
      const s = chunk.stage;
      await ringStage(deps, s, `more-${s.total - s.pending}-${s.running}`, now);
      break;
    }
  }
  await publishing;
  if (last && !last.settled?.stageFinished && total.deferred > 0)
    await ringRetry(deps, last.stage, deps.clock.now());
  return { outcome: 'progressed', ...total };
}

/** Rings the stage for the earliest time a deferred (busy) target may be tried again. */
async function ringRetry(deps: Deps, stage: Stage, now: Date) {
  const [later] = await deps.db
    .select({ at: min(scheduledActionTargets.nextAttemptAt) })
    .from(scheduledActionTargets)
    .where(
      and(
        eq(scheduledActionTargets.stageId, stage.id),
        eq(scheduledActionTargets.status, 'pending'),
        sql`${scheduledActionTargets.nextAttemptAt} > ${now.toISOString()}::timestamptz`,
      ),
    );
  if (later?.at) await ringStage(deps, stage, `retry-${later.at.getTime()}`, later.at);
}

/** Early by more than this (ms) is not waited out in the handler; the stage rings again. */
const EARLY_WAIT_MS = 5_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** A stage held back by the deployment-wide cap looks again in {@link CAP_RETRY_MS}. */
async function ringAtCap(deps: Deps, stageId: string, now: Date) {
  const at = new Date(Math.ceil((now.getTime() + CAP_RETRY_MS) / 1000) * 1000);
  await ringStage(deps, { id: stageId, scheduledAt: at }, `cap-${at.getTime()}`, at);
}

/**
 * A doorbell early by more than a few seconds rings again for the stage's due time,
 * deduplicated on that due time (not on the message: while QStash's clock runs ahead, each
 * re-ring would arrive early again and ring anew, without end). Should it still arrive
 * early, the dedup drops it, and the sweep rings the stage.
 */
async function ringEarly(
  deps: Deps,
  input: { stageId: string; messageId?: string | null },
  dueAt: Date,
) {
  const purpose = `early-${dueAt.getTime()}`;
  try {
    await deps.doorbells.ring(
      stageDoorbell({ id: input.stageId, scheduledAt: dueAt }, purpose, dueAt),
    );
  } catch (err) {
    deps.log.warn('scheduler.ring_failed', { stageId: input.stageId, purpose, error: err });
  }
}

/** One batch publish per chunk (QStash `batch`); a failure is left to the sweep. */
export async function ringOperations(deps: Pick<Deps, 'doorbells' | 'log'>, ops: Operation[]) {
  for (let i = 0; i < ops.length; i += 100) {
    const batch = ops.slice(i, i + 100);
    try {
      await deps.doorbells.ringMany(batch.map((op) => stepDoorbell(op)));
    } catch (err) {
      deps.log.warn('scheduler.ring_operations_failed', {
        count: batch.length,
        error: err,
        hint: 'the sweep rings operations whose doorbell was lost',
      });
    }
  }
}
