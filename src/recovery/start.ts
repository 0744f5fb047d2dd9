import { and, eq, gte, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recoveries } from '../../db/schema/index.ts';
import { recordAudit } from '../audit/audit.ts';
import type { Actor, Ctx, Deps } from '../deps.ts';
import { recordInstanceEvent } from '../fleet/events.ts';
import { lockForRecovery, markRecovering } from '../fleet/recovery-moves.ts';
import { ConflictError, NotFoundError } from '../lib/errors.ts';
import {
  IN_PLACE_DEADLINE_MS,
  IN_PLACE_WINDOW_MS,
  type Recovery,
  type RecoveryCause,
  type RecoveryStep,
  type RecoveryTrigger,
} from './model.ts';
import { ringRecovery } from './run-step.ts';

export type BeginInput = {
  instanceId: string;
  trigger: RecoveryTrigger;
  cause: RecoveryCause;
  flyState: string | null;
  hostStatus: string | null;
  actor: Actor;
  /** Skip the in-place start (an admin's choice). */
  relocate?: boolean;
};

export type BeginResult =
  | { ok: true; recovery: Recovery }
  | { ok: false; reason: 'unknown' | 'busy' | 'not_recoverable' | 'active'; status?: string };

/** In-place starts that ended a recovery of this instance within the window. */
async function recentInPlace(tx: Db, instanceId: string, now: Date): Promise<number> {
  const [row] = await tx
    .select({ n: sql<number>`count(*)::int` })
    .from(recoveries)
    .where(
      and(
        eq(recoveries.instanceId, instanceId),
        eq(recoveries.inPlace, true),
        gte(recoveries.endedAt, new Date(now.getTime() - IN_PLACE_WINDOW_MS)),
      ),
    );
  return row?.n ?? 0;
}

/**
 * Begins a recovery, in one transaction: locks the instance and checks it may be
 * recovered (reconcile: `running`; an admin: `running`, `stopped` or `failed`; never busy
 * or with an action in flight), inserts the recovery (the partial unique index lets one
 * active recovery per instance exist; a concurrent second insert finds it and stops),
 * moves the instance to `recovering` and records `recovery_started` (and the audit row for
 * an admin). The first step is the in-place start, unless the host is not `ok`, there is
 * no machine, relocation was asked for, or this instance used up its in-place starts in
 * the last hour (`config.recovery.inPlaceAttempts`). Rings the first step after commit
 * (unless `ring: false`: the caller rings many at once).
 */
export async function beginRecovery(
  deps: Pick<Deps, 'db' | 'clock' | 'config' | 'doorbells' | 'log'> & {
    requestId?: string | null;
  },
  input: BeginInput,
  options: { ring?: boolean } = {},
): Promise<BeginResult> {
  const now = deps.clock.now();
  const statuses = input.trigger === 'admin' ? ['running', 'stopped', 'failed'] : ['running'];
  const result = await deps.db.transaction(async (tx): Promise<BeginResult> => {
    const locked = await lockForRecovery(tx, input.instanceId, statuses);
    if (!locked.ok) return locked;
    const i = locked.instance;
    const gone =
      !i.machineId ||
      input.cause === 'machine_missing' ||
      input.cause === 'machine_destroyed' ||
      (input.hostStatus !== null && input.hostStatus !== 'ok');
    const inPlaceLeft = deps.config.recovery.inPlaceAttempts > (await recentInPlace(tx, i.id, now));
    const relocate = input.relocate || gone || !inPlaceLeft;
    const step: RecoveryStep =
      relocate && deps.config.recovery.relocation ? 'started' : 'in_place_start';
    const [row] = await tx
      .insert(recoveries)
      .values({
        instanceId: i.id,
        trigger: input.trigger,
        cause: input.cause,
        flyState: input.flyState,
        hostStatus: input.hostStatus,
        status: 'pending',
        step,
        stepDeadlineAt:
          step === 'in_place_start' ? new Date(now.getTime() + IN_PLACE_DEADLINE_MS) : null,
        oldMachineId: i.machineId,
        oldVolumeId: i.volumeId,
        oldRegion: i.region,
        regionTried: i.region,
        nextAttemptAt: now,
        requestedBy: input.actor.label,
        history: [{ step, at: now.toISOString(), note: `cause ${input.cause}` }],
        startedAt: now,
        updatedAt: now,
      })
      .onConflictDoNothing()
      .returning();
    if (!row) return { ok: false, reason: 'active' };
    await markRecovering(tx, i.id, now);
    const payload = {
      recoveryId: row.id,
      trigger: input.trigger,
      cause: input.cause,
      flyState: input.flyState,
      hostStatus: input.hostStatus,
      firstStep: step,
    };
    await recordInstanceEvent(tx, {
      instanceId: i.id,
      type: 'recovery_started',
      actor: input.actor,
      payload,
      at: now,
    });
    if (input.trigger === 'admin')
      await recordAudit(
        tx,
        { actor: input.actor, requestId: deps.requestId ?? null },
        { action: 'instance.recover', subjectType: 'instance', subjectId: i.id, payload },
      );
    return { ok: true, recovery: row };
  });
  if (result.ok) {
    deps.log.info('recovery.started', {
      recoveryId: result.recovery.id,
      instanceId: input.instanceId,
      cause: input.cause,
      step: result.recovery.step,
    });
    if (options.ring !== false) await ringRecovery(deps, result.recovery);
  }
  return result;
}

/**
 * `POST /api/admin/instances/{id}/recover`: an admin's recovery. 404 unknown; 409
 * `instance-busy` while it is busy, has an action in flight or is already recovering;
 * 409 `not-recoverable` when destroyed.
 */
export async function recoverNow({
  ctx,
  input,
}: {
  ctx: Ctx;
  input: { instanceId: string; relocate?: boolean };
}): Promise<Recovery> {
  const result = await beginRecovery(ctx, {
    instanceId: input.instanceId,
    trigger: 'admin',
    cause: 'admin_request',
    flyState: null,
    hostStatus: null,
    actor: ctx.actor,
    relocate: input.relocate,
  });
  if (result.ok) return result.recovery;
  if (result.reason === 'unknown') throw new NotFoundError('Instance', input.instanceId);
  if (result.reason === 'not_recoverable')
    throw new ConflictError(
      `The instance cannot be recovered while ${result.status}.`,
      { instanceId: input.instanceId, instanceStatus: result.status },
      'not-recoverable',
    );
  throw new ConflictError(
    result.reason === 'active'
      ? 'The instance is already being recovered.'
      : `The instance is busy (${result.status}); try again when it has finished.`,
    { instanceId: input.instanceId, instanceStatus: result.status ?? 'recovering' },
    'instance-busy',
  );
}
