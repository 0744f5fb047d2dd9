import { and, eq, inArray, sql } from 'drizzle-orm';
import { cliRuns, LIVE_CLI_RUN_STATUSES } from '../../db/schema/index.ts';
import { ControllerError } from '../adapters/controller/errors.ts';
import type { CliRunStarted } from '../adapters/controller/types.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { takeHold } from '../fleet/holds.ts';
import { heldBy, released } from '../lib/claims.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { endRun } from './end.ts';
import { ControllerFailedError, describeControllerError, isAmbiguous, runLive } from './errors.ts';
import { ringFollow } from './follow-ring.ts';
import { type CliRun, FOLLOW_MIN_MS, findRun, targetOf } from './model.ts';

export type StartInput = {
  instanceId: string;
  prompt: string;
  /** `user`: the product's apps acting for the user; `admin`: the console or an admin token. */
  initiatedBy: 'user' | 'admin';
};

/** The row, holding its instance: written and committed before the controller is called. */
async function insertStarting(ctx: Ctx, input: StartInput, now: Date): Promise<CliRun> {
  const id = crypto.randomUUID();
  return ctx.db.transaction(async (tx) => {
    const hold = await takeHold(tx, input.instanceId, { kind: 'cli_run', id }, now);
    if (!hold.ok) {
      if (hold.reason === 'not_found') throw new NotFoundError('Instance', input.instanceId);
      if (hold.reason === 'held') throw runLive(input.instanceId, hold.holdId);
      if (hold.reason === 'busy')
        throw new ConflictError(
          'The instance is busy: an action is in progress on it. Try again when it has finished.',
          { instanceId: input.instanceId, instanceStatus: hold.status },
          'instance-busy',
        );
      throw new ConflictError(
        `Only a running instance accepts a CLI run (it is ${hold.status}).`,
        { instanceId: input.instanceId, instanceStatus: hold.status },
        'instance-not-running',
      );
    }
    const i = hold.instance;
    const admin = ctx.actor.type === 'admin' ? ctx.actor.id : null;
    // The partial unique index decides between racing starts; the hold above makes the
    // loser see the winner first, so `nothing` here means the two disagreed: still a 409.
    const [row] = await tx
      .insert(cliRuns)
      .values({
        id,
        instanceId: i.id,
        userId: i.userId,
        initiatedBy: input.initiatedBy,
        initiatedByAdminId: input.initiatedBy === 'admin' ? admin : null,
        initiatedByLabel: ctx.actor.label,
        prompt: input.prompt,
        appName: i.appName,
        machineId: i.machineId,
        instanceName: i.name,
        userEmail: i.userEmail,
        searchText: [input.prompt, i.id, i.name, i.userEmail].join('\n').toLowerCase(),
        deadlineAt: new Date(now.getTime() + ctx.config.cliRuns.maxDurationMs),
        // The starter holds the row until the controller answered (the sweep fails it if
        // the starter dies in between).
        claimToken: crypto.randomUUID(),
        claimedAt: now,
        attempts: 1,
        leaseUntil: new Date(now.getTime() + ctx.config.work.leaseMs),
        createdAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing({
        target: cliRuns.instanceId,
        where: sql`${cliRuns.status} in ('starting', 'running')`,
      })
      .returning();
    if (!row) {
      const [live] = await tx
        .select({ id: cliRuns.id })
        .from(cliRuns)
        .where(
          and(eq(cliRuns.instanceId, i.id), inArray(cliRuns.status, [...LIVE_CLI_RUN_STATUSES])),
        );
      throw runLive(i.id, live?.id ?? 'unknown');
    }
    await recordInstanceEvent(tx, {
      instanceId: i.id,
      type: 'cli_run_started',
      actor: ctx.actor,
      payload: { runId: row.id, initiatedBy: input.initiatedBy },
      at: now,
    });
    if (input.initiatedBy === 'admin')
      await recordAudit(tx, ctx, {
        action: 'cli_run.start',
        subjectType: 'cli_run',
        subjectId: row.id,
        payload: { instanceId: i.id, promptLength: input.prompt.length },
      });
    return row;
  });
}

/**
 * Asks the controller to start; a 409 naming a run we do not track (one an earlier start
 * made before its answer was lost) is cancelled on the controller and the start tried once
 * more, so such an orphan never blocks the instance.
 */
async function startOnController(ctx: Ctx, run: CliRun): Promise<CliRunStarted> {
  const target = targetOf(run);
  try {
    return await ctx.controller.startCliRun(target, { prompt: run.prompt });
  } catch (error) {
    if (!(error instanceof ControllerError && error.kind === 'conflict' && error.liveId))
      throw error;
    ctx.log.warn('cli_run.orphan_cancelled', { runId: run.id, controllerRunId: error.liveId });
    await ctx.controller.cancelCliRun(target, error.liveId);
    return ctx.controller.startCliRun(target, { prompt: run.prompt });
  }
}

/**
 * Starts a CLI run on a running instance: the `starting` row first (holding the instance,
 * so restarts, version changes and stops are refused while it is live), then the
 * controller. Returns the `running` run, with its follow doorbell rung.
 *
 * Errors: 404 unknown instance; 409 `cli-run-live` with `liveRunId` when a run is live
 * (concurrent starts: the partial unique index and the instance's row lock let exactly one
 * win); 409 `instance-not-running` naming its status; 409 `instance-busy` while an action
 * runs; 502 `controller-failed` when the controller did not start it — the row is then
 * `failed` with the reason (never orphaned) and `runId` names it.
 */
export async function startCliRun({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: StartInput;
}): Promise<CliRun> {
  const run = await insertStarting(ctx, input, ctx.clock.now());
  let started: CliRunStarted;
  try {
    started = await startOnController(ctx, run);
  } catch (error) {
    const reason = `The start failed: ${describeControllerError(error)}.${
      isAmbiguous(error)
        ? ' It may have started on the machine anyway; the next start cancels such a run.'
        : ''
    }`;
    await endRun(ctx.db, run, { status: 'failed', error: reason }, ctx.clock.now(), {
      guard: 'claim',
      actor: ctx.actor,
    });
    ctx.log.warn('cli_run.start_failed', { runId: run.id, instanceId: run.instanceId, reason });
    throw new ControllerFailedError(reason, run.id);
  }
  const now = ctx.clock.now();
  const [running] = await ctx.db
    .update(cliRuns)
    .set({
      status: 'running',
      controllerRunId: started.runId,
      startedAt: new Date(started.startedAt),
      nextCheckAt: new Date(now.getTime() + FOLLOW_MIN_MS),
      followDelayMs: FOLLOW_MIN_MS,
      updatedAt: now,
      ...released,
    })
    .where(and(heldBy(cliRuns, run), eq(cliRuns.status, 'starting')))
    .returning();
  if (!running) {
    // The sweep gave up on this start while the controller was answering: stop what we
    // started rather than leave it running untracked.
    await ctx.controller.cancelCliRun(targetOf(run), started.runId).catch(() => undefined);
    const current = await findRun(ctx.db, run.id);
    throw new ControllerFailedError(
      `The start was given up before the controller answered (${current?.lastError ?? 'the run ended meanwhile'}); the run it started was cancelled.`,
      run.id,
    );
  }
  ctx.log.info('cli_run.started', { runId: run.id, instanceId: run.instanceId });
  await ringFollow(ctx, running);
  return running;
}
