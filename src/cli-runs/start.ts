import { and, eq, inArray, sql } from 'drizzle-orm';
import { cliRuns, LIVE_CLI_RUN_STATUSES } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Ctx, Deps } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { takeHold } from '../fleet/holds.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import { heldBy, released } from '../lib/work/index.ts';
import { type Started, sendStart } from './controller-calls.ts';
import { endRun } from './end.ts';
import { ControllerFailedError, runLive } from './errors.ts';
import { ringFollow } from './follow-ring.ts';
import { type CliRun, FOLLOW_MIN_MS, findRun, isLive, targetOf } from './model.ts';

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
        // The starter holds the row until the controller answered (if it dies in between,
        // the sweep hands the start to the follow, which sends it again with the same key).
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
    // Audited whoever starts it: a platform request's row names the user it acted for.
    await recordAudit(tx, ctx, {
      action: 'cli_run.start',
      subjectType: 'cli_run',
      subjectId: row.id,
      payload: {
        instanceId: i.id,
        promptLength: input.prompt.length,
        initiatedBy: input.initiatedBy,
      },
    });
    return row;
  });
}

/**
 * Records what the controller answered a start: the row becomes `running` with the
 * controller's run id and its first poll due in 2 s, guarded by the claim `run` carries and
 * by the row still `starting`. Rings that poll. Null when the claim was lost.
 */
export async function recordStarted(
  deps: Pick<Deps, 'db' | 'clock' | 'doorbells' | 'log'>,
  run: CliRun,
  started: Started,
): Promise<CliRun | null> {
  const now = deps.clock.now();
  const [running] = await deps.db
    .update(cliRuns)
    .set({
      status: 'running',
      controllerRunId: started.runId,
      startedAt: new Date(started.startedAt),
      lastError: null,
      nextCheckAt: new Date(now.getTime() + FOLLOW_MIN_MS),
      followDelayMs: FOLLOW_MIN_MS,
      updatedAt: now,
      ...released(cliRuns),
    })
    .where(and(heldBy(cliRuns, run), eq(cliRuns.status, 'starting')))
    .returning();
  if (!running) return null;
  deps.log.info('cli_run.started', {
    runId: run.id,
    instanceId: run.instanceId,
    replayed: started.replayed,
  });
  await ringFollow(deps, running);
  return running;
}

/**
 * Starts a CLI run on a running instance: the `starting` row first (holding the instance,
 * so restarts, version changes and stops are refused while it is live), then the
 * controller, with the row id as the start's `Idempotency-Key`. Returns the run:
 * `running`, with its follow doorbell rung; or `starting` when the controller's answer was
 * lost (timeout, 5xx or lost connection twice): the row says so in `lastError` and its
 * follow doorbell sends the start again with the same key until the controller answers
 * (a replay names the run the lost start made) or Fly reports the machine gone.
 *
 * Errors: 404 unknown instance; 409 `cli-run-live` with `liveRunId` when a run is live
 * (concurrent starts: the partial unique index and the instance's row lock let exactly one
 * win); 409 `instance-not-running` naming its status; 409 `instance-busy` while an action
 * runs; 502 `controller-failed` when the controller refused the start or Fly reports its
 * machine gone — nothing is live, the row is `failed` with the reason and `runId` names it.
 */
export async function startCliRun({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: StartInput;
}): Promise<CliRun> {
  const run = await insertStarting(ctx, input, ctx.clock.now());
  const answer = await sendStart(ctx, run, { retryNow: true });
  if (answer.kind === 'not_started') {
    await endRun(ctx.db, run, { status: 'failed', error: answer.reason }, ctx.clock.now(), {
      guard: 'claim',
      actor: ctx.actor,
    });
    ctx.log.warn('cli_run.start_failed', {
      runId: run.id,
      instanceId: run.instanceId,
      reason: answer.reason,
    });
    throw new ControllerFailedError(answer.reason, run.id);
  }
  if (answer.kind === 'unknown') {
    const now = ctx.clock.now();
    const [waiting] = await ctx.db
      .update(cliRuns)
      .set({
        lastError: answer.reason,
        nextCheckAt: new Date(now.getTime() + FOLLOW_MIN_MS),
        followDelayMs: FOLLOW_MIN_MS,
        updatedAt: now,
        ...released(cliRuns),
      })
      .where(and(heldBy(cliRuns, run), eq(cliRuns.status, 'starting')))
      .returning();
    ctx.log.warn('cli_run.start_unknown', { runId: run.id, reason: answer.reason });
    if (waiting) {
      await ringFollow(ctx, waiting);
      return waiting;
    }
    return afterLostClaim(ctx, run, null);
  }
  return (
    (await recordStarted(ctx, run, answer.started)) ?? afterLostClaim(ctx, run, answer.started)
  );
}

/**
 * The starter lost its claim while the controller was answering: its lease passed and the
 * follow took the start over (the key makes both name the same run), or the run was
 * cancelled meanwhile. Answers the row as it is now; a run that ended while this start made
 * one on the machine is told to cancel it (best effort: the ended row's pending cleanup
 * cancels it too, looked up by the same key).
 */
async function afterLostClaim(ctx: Ctx, run: CliRun, started: Started | null): Promise<CliRun> {
  const current = (await findRun(ctx.db, run.id)) ?? run;
  if (started && !isLive(current))
    await ctx.controller.cancelCliRun(targetOf(run), started.runId).catch(() => undefined);
  ctx.log.info('cli_run.start_taken_over', { runId: run.id, status: current.status });
  return current;
}
