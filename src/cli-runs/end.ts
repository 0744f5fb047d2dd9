import { and, eq, inArray, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { type CliRunCleanup, cliRuns, LIVE_CLI_RUN_STATUSES } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Actor, Ctx } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { releaseHold } from '../fleet/holds.ts';
import { heldBy, released } from '../lib/work/index.ts';
import type { CliRun } from './model.ts';

export type Ending = {
  status: 'completed' | 'failed' | 'cancelled';
  exitCode?: number | null;
  error?: string | null;
  /**
   * Output gathered by this handler, when it read more: the kept tail, the bytes read and
   * (`reported`) the size the controller last reported.
   */
  output?: { tail: string; size: number; reported?: number };
  /**
   * Why output the controller reported was not read, when some was not (default: "the run
   * ended before the rest of its output was read"). Ignored when all of it was read.
   */
  cut?: string;
  /** `pending`: the controller still owes a confirmed cancel (see CLI_RUN_CLEANUPS). */
  cleanup?: CliRunCleanup | null;
};

const UNREAD = 'the run ended before the rest of its output was read';

/**
 * Ends a live run in one transaction: the terminal status (guarded: by the caller's claim
 * with `guard: 'claim'`, else only by the run still being live), the output cut stated when
 * less was read than the controller reported, the instance's hold released, a timeline
 * event and, with `audit`, the audit row. With `cleanup: 'pending'` the row is due for its
 * follow doorbell at once (the caller rings it: {@link ringCleanup}). Returns the ended run,
 * or null when the guard matched nothing (someone else ended it, or took the claim).
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
    const size = ending.output?.size ?? run.outputSize;
    const reported = Math.max(run.outputReportedSize, ending.output?.reported ?? 0, size);
    const cleanup = ending.cleanup ?? null;
    const [ended] = await tx
      .update(cliRuns)
      .set({
        status: ending.status,
        exitCode: ending.exitCode ?? null,
        lastError: ending.error ?? null,
        ...(ending.output ? { outputTail: ending.output.tail, outputSize: size } : {}),
        outputReportedSize: reported,
        outputCutReason: reported > size ? (ending.cut ?? UNREAD) : null,
        cleanup,
        endedAt: now,
        nextCheckAt: cleanup === 'pending' ? now : null,
        updatedAt: now,
        ...released(cliRuns),
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
        ...(cleanup ? { cleanup } : {}),
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
