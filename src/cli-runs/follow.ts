import { and, eq, lte } from 'drizzle-orm';
import { cliRuns } from '../../db/schema/index.ts';
import { ControllerError } from '../adapters/controller/errors.ts';
import type { ControllerCliRun } from '../adapters/controller/types.ts';
import type { Deps } from '../deps.ts';
import { getInstance } from '../fleet/instances.ts';
import { claimSet, heldBy, leaseFree, released } from '../lib/claims.ts';
import { endRun } from './end.ts';
import { describeControllerError } from './errors.ts';
import { ringFollow } from './follow-ring.ts';
import { type CliRun, findRun, nextDelayMs, OUTPUT_PAGES_PER_POLL, targetOf } from './model.ts';
import { appendTail } from './output.ts';

export type FollowRun =
  | { outcome: 'skipped'; reason: 'unknown' | 'ended' | 'held' }
  | { outcome: 'early'; dueAt: Date }
  | { outcome: 'continued'; run: CliRun }
  | { outcome: 'ended'; run: CliRun }
  | { outcome: 'claim_lost' };

/** Claims a running run that is due and not held: one guarded statement. */
async function claimFollow(deps: Deps, runId: string, now: Date): Promise<CliRun | null> {
  const [row] = await deps.db
    .update(cliRuns)
    .set({ ...claimSet(cliRuns, now, deps.config.work.leaseMs), updatedAt: now })
    .where(
      and(
        eq(cliRuns.id, runId),
        eq(cliRuns.status, 'running'),
        lte(cliRuns.nextCheckAt, now),
        leaseFree(cliRuns, now),
      ),
    )
    .returning();
  return row ?? null;
}

/** Output after the run's offset, a few pages at most; the text read and the new offset. */
async function readOutput(deps: Deps, run: CliRun, upTo: number) {
  let size = run.outputSize;
  let text = '';
  for (let page = 0; page < OUTPUT_PAGES_PER_POLL && size < upTo; page++) {
    const out = await deps.controller.getCliRunOutput(
      targetOf(run),
      run.controllerRunId ?? '',
      size,
    );
    text += out.chunks.map((c) => c.text).join('');
    if (out.nextOffset <= size) break;
    size = out.nextOffset;
  }
  return { text, size };
}

type Observation =
  | { kind: 'status'; status: ControllerCliRun; text: string; size: number }
  | { kind: 'gone'; reason: string }
  | { kind: 'transient'; reason: string };

/** Asks the controller how the run is, reading new output when its size says there is some. */
async function observe(deps: Deps, run: CliRun): Promise<Observation> {
  try {
    const status = await deps.controller.getCliRun(targetOf(run), run.controllerRunId ?? '');
    if (status.runId !== run.controllerRunId)
      return {
        kind: 'gone',
        reason: `The instance's controller reports another run (${status.runId}) instead of this one (${run.controllerRunId}).`,
      };
    const { text, size } =
      status.outputSize > run.outputSize || status.status !== 'running'
        ? await readOutput(deps, run, status.outputSize)
        : { text: '', size: run.outputSize };
    return { kind: 'status', status, text, size };
  } catch (error) {
    if (error instanceof ControllerError && error.kind === 'not_found')
      return {
        kind: 'gone',
        reason:
          "The instance's controller no longer knows this run (the machine restarted or was replaced); the output gathered so far is kept.",
      };
    if (
      error instanceof ControllerError &&
      (error.kind === 'timeout' || error.kind === 'unreachable' || error.kind === 'server')
    ) {
      // The machine may be gone for good with its instance: then nothing will answer.
      const instance = await getInstance(deps.db, run.instanceId).catch(() => null);
      if (!instance || instance.status === 'destroyed' || instance.status === 'destroying')
        return {
          kind: 'gone',
          reason:
            'The instance was destroyed while the run was live; the output gathered so far is kept.',
        };
      if (instance.machineId && instance.machineId !== run.machineId)
        return {
          kind: 'gone',
          reason: `The instance moved to another machine (${instance.machineId}) while the run was live on ${run.machineId}; the output gathered so far is kept.`,
        };
      return { kind: 'transient', reason: describeControllerError(error) };
    }
    return { kind: 'gone', reason: `Following the run failed: ${describeControllerError(error)}.` };
  }
}

/**
 * One follow doorbell of a running run: claims it (src/lib/claims.ts; a duplicate or late
 * doorbell finds it held or not due and does nothing), asks the controller for its status
 * and new output, and records what it learned in one guarded statement. A terminal state
 * ends the row (releasing the instance); a controller that no longer knows the run, or
 * reports another, ends it `failed` with the reason and the output kept; past the run's
 * deadline (`CLI_RUN_MAX_MINUTES`) it is cancelled on the controller and failed. Otherwise
 * it rings its own continuation: 2 s after new output, backing off to 30 s without.
 */
export async function followCliRun(deps: Deps, input: { runId: string }): Promise<FollowRun> {
  const now = deps.clock.now();
  const run = await claimFollow(deps, input.runId, now);
  if (!run) {
    const current = await findRun(deps.db, input.runId);
    if (!current) return { outcome: 'skipped', reason: 'unknown' };
    if (current.status !== 'running' && current.status !== 'starting')
      return { outcome: 'skipped', reason: 'ended' };
    if (current.status === 'running' && current.nextCheckAt && current.nextCheckAt > now) {
      // Early (the queue's clock ahead of ours): ring again for the due time, once.
      await ringFollow(deps, current, `early-${current.nextCheckAt.getTime()}`);
      return { outcome: 'early', dueAt: current.nextCheckAt };
    }
    return { outcome: 'skipped', reason: 'held' };
  }

  if (now >= run.deadlineAt) return expire(deps, run);
  const seen = await observe(deps, run);
  const at = deps.clock.now();
  if (seen.kind === 'gone')
    return ended(
      await endRun(deps.db, run, { status: 'failed', error: seen.reason }, at, { guard: 'claim' }),
    );
  if (seen.kind === 'status') {
    const output = { tail: appendTail(run.outputTail, seen.text), size: seen.size };
    const s = seen.status;
    if (s.status !== 'running')
      return ended(
        await endRun(
          deps.db,
          run,
          {
            status: s.status,
            exitCode: s.exitCode,
            error:
              s.status === 'failed'
                ? `The CLI exited with code ${s.exitCode ?? 'unknown'}.`
                : s.status === 'cancelled'
                  ? 'Cancelled on the instance.'
                  : null,
            output,
          },
          at,
          { guard: 'claim' },
        ),
      );
    return continueAfter(deps, run, at, { output, gotOutput: seen.size > run.outputSize });
  }
  return continueAfter(deps, run, at, { note: seen.reason, gotOutput: false });
}

function ended(run: CliRun | null): FollowRun {
  return run ? { outcome: 'ended', run } : { outcome: 'claim_lost' };
}

/** Records progress and the next check, gives the claim back and rings the next poll. */
async function continueAfter(
  deps: Deps,
  run: CliRun,
  now: Date,
  step: { output?: { tail: string; size: number }; note?: string; gotOutput: boolean },
): Promise<FollowRun> {
  const delay = nextDelayMs(run.followDelayMs, step.gotOutput);
  const [next] = await deps.db
    .update(cliRuns)
    .set({
      ...(step.output ? { outputTail: step.output.tail, outputSize: step.output.size } : {}),
      lastError: step.note ?? null,
      nextCheckAt: new Date(now.getTime() + delay),
      followDelayMs: delay,
      updatedAt: now,
      ...released,
    })
    .where(and(heldBy(cliRuns, run), eq(cliRuns.status, 'running')))
    .returning();
  if (!next) return { outcome: 'claim_lost' };
  // Deduplicated on this claim's number: a duplicate of this poll cannot ring twice.
  await ringFollow(deps, next);
  return { outcome: 'continued', run: next };
}

/** Past its deadline: cancel on the controller (best effort), then failed, saying so. */
async function expire(deps: Deps, run: CliRun): Promise<FollowRun> {
  const minutes = Math.round(deps.config.cliRuns.maxDurationMs / 60_000);
  let cancelled = 'it was cancelled on the instance';
  try {
    await deps.controller.cancelCliRun(targetOf(run), run.controllerRunId ?? '');
  } catch (error) {
    cancelled = `cancelling it on the instance failed (${describeControllerError(error)})`;
  }
  return ended(
    await endRun(
      deps.db,
      run,
      {
        status: 'failed',
        error: `No terminal state within the maximum duration of ${minutes} minutes; ${cancelled}.`,
      },
      deps.clock.now(),
      { guard: 'claim' },
    ),
  );
}
