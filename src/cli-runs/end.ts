import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { cliRuns, LIVE_CLI_RUN_STATUSES } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Actor, Ctx } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { releaseHold } from '../fleet/holds.ts';
import { heldBy, released } from '../lib/claims.ts';
import type { CliRun } from './model.ts';

export type Ending = {
  status: 'completed' | 'failed' | 'cancelled';
  exitCode?: number | null;
  error?: string | null;
  /** Output gathered by this handler, when it read more. */
  output?: { tail: string; size: number };
};

/**
 * Ends a live run in one transaction: the terminal status (guarded: by the caller's claim
 * with `guard: 'claim'`, else only by the run still being live), the instance's hold
 * released, a timeline event and, with `audit`, the audit row. Returns the ended run, or
 * null when the guard matched nothing (someone else ended it, or took the claim).
 */
export async function endRun(
  db: Db,
  run: CliRun,
  ending: Ending,
  now: Date,
  options: {
    guard: 'claim' | 'live';
    actor?: Actor;
    audit?: { ctx: Pick<Ctx, 'actor' | 'requestId'>; action: string };
  },
): Promise<CliRun | null> {
  return db.transaction(async (tx) => {
    const live = inArray(cliRuns.status, [...LIVE_CLI_RUN_STATUSES]);
    const guard: SQL | undefined =
      options.guard === 'claim'
        ? and(heldBy(cliRuns, run), live)
        : and(eq(cliRuns.id, run.id), live);
    const [ended] = await tx
      .update(cliRuns)
      .set({
        status: ending.status,
        exitCode: ending.exitCode ?? null,
        lastError: ending.error ?? null,
        ...(ending.output
          ? { outputTail: ending.output.tail, outputSize: ending.output.size }
          : {}),
        endedAt: now,
        nextCheckAt: null,
        updatedAt: now,
        ...released,
      })
      .where(guard)
      .returning();
    if (!ended) return null;
    await releaseHold(tx, run.instanceId, run.id, now);
    await recordInstanceEvent(tx, {
      instanceId: run.instanceId,
      type: `cli_run_${ending.status}`,
      actor: options.actor ?? null,
      payload: {
        runId: run.id,
        exitCode: ended.exitCode,
        ...(ended.lastError ? { error: ended.lastError } : {}),
      },
      at: now,
    });
    if (options.audit)
      await recordAudit(tx, options.audit.ctx, {
        action: options.audit.action,
        subjectType: 'cli_run',
        subjectId: run.id,
        payload: { instanceId: run.instanceId, status: ending.status },
      });
    return ended;
  });
}
