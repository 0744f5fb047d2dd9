import { z } from '@hono/zod-openapi';
import {
  RECOVERY_CAUSES,
  RECOVERY_STATUSES,
  RECOVERY_STEPS,
  RECOVERY_TRIGGERS,
  RECOVERY_WAITS,
  type Recovery,
} from '../../../src/recovery/model.ts';
import { stepSpans } from '../../../src/recovery/queries.ts';
import type { ReconcileRun } from '../../../src/recovery/reconcile.ts';
import { orNull, Timestamp, Uuid } from '../schemas.ts';

export const RecoveryStatus = z.enum(RECOVERY_STATUSES).openapi('RecoveryStatus');
export const RecoveryCause = z.enum(RECOVERY_CAUSES).openapi('RecoveryCause');
export const RecoveryStep = z.enum(RECOVERY_STEPS).openapi('RecoveryStep');
export const RecoveryWait = z.enum(RECOVERY_WAITS).openapi('RecoveryWait', {
  description:
    "What an active recovery waits for, keeping the old machine and volume: `host_unreachable` (its volume's host is unreachable and there is no snapshot to restore) or `insufficient_capacity` (no allowed region has room). The reason is in `lastError`.",
});

export const RecoveryJson = z
  .object({
    id: Uuid,
    instanceId: Uuid,
    instanceName: z.string().nullable(),
    trigger: z.enum(RECOVERY_TRIGGERS),
    cause: RecoveryCause,
    flyState: z.string().nullable().openapi({ description: 'The machine state Fly reported.' }),
    hostStatus: z.string().nullable().openapi({ description: "The machine's host_status." }),
    status: RecoveryStatus,
    step: RecoveryStep,
    failedStep: orNull(RecoveryStep),
    inPlace: z.boolean().openapi({ description: 'Ended by starting the old machine again.' }),
    attempts: z.number().int().openapi({ description: 'Claims made so far (all steps).' }),
    stepFailures: z.number().int().openapi({ description: 'Failed tries of the current step.' }),
    nextAttemptAt: Timestamp.nullable(),
    oldMachineId: z.string().nullable(),
    newMachineId: z.string().nullable(),
    oldVolumeId: z.string().nullable(),
    newVolumeId: z.string().nullable(),
    oldRegion: z.string(),
    regionTried: z.string().nullable(),
    volumeSource: z.enum(['fork', 'snapshot']).nullable(),
    retainedVolumeId: z.string().nullable(),
    retainUntil: Timestamp.nullable(),
    oldVolumeDeletedAt: Timestamp.nullable(),
    lastError: z.string().nullable(),
    waitingFor: orNull(RecoveryWait),
    waitingSince: Timestamp.nullable(),
    waits: z.number().int().openapi({ description: 'Looks made while waiting.' }),
    oldMachineDestroyedAt: Timestamp.nullable().openapi({
      description: 'When the old machine was destroyed (only once its replacement existed).',
    }),
    retryAt: Timestamp.nullable().openapi({
      description: 'A failed recovery: when reconcile resumes it (null: only by hand).',
    }),
    autoRetries: z.number().int().openapi({ description: 'Times reconcile resumed it.' }),
    requestedBy: z.string(),
    startedAt: Timestamp,
    endedAt: Timestamp.nullable(),
  })
  .openapi('Recovery');

export const RecoveryDetailJson = RecoveryJson.extend({
  steps: z.array(
    z.object({
      step: RecoveryStep,
      at: Timestamp,
      durationMs: z.number().int().nullable().openapi({ description: 'null: still in it.' }),
      note: z.string().nullable(),
    }),
  ),
}).openapi('RecoveryDetail');

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function recoveryJson(
  r: Recovery & { instanceName?: string | null },
): z.infer<typeof RecoveryJson> {
  const active = r.status === 'pending' || r.status === 'running';
  return {
    id: r.id,
    instanceId: r.instanceId,
    instanceName: r.instanceName ?? null,
    trigger: r.trigger,
    cause: r.cause,
    flyState: r.flyState,
    hostStatus: r.hostStatus,
    status: r.status,
    step: r.step,
    failedStep: r.failedStep,
    inPlace: r.inPlace,
    attempts: r.attempts,
    stepFailures: r.stepFailures,
    nextAttemptAt: active ? r.nextAttemptAt.toISOString() : null,
    oldMachineId: r.oldMachineId,
    newMachineId: r.newMachineId,
    oldVolumeId: r.oldVolumeId,
    newVolumeId: r.newVolumeId,
    oldRegion: r.oldRegion,
    regionTried: r.regionTried,
    volumeSource: r.volumeSource,
    retainedVolumeId: r.retainedVolumeId,
    retainUntil: iso(r.retainUntil),
    oldVolumeDeletedAt: iso(r.oldVolumeDeletedAt),
    lastError: r.lastError,
    waitingFor: r.waitingFor,
    waitingSince: iso(r.waitingSince),
    waits: r.waits,
    oldMachineDestroyedAt: iso(r.oldMachineDestroyedAt),
    retryAt: r.status === 'failed' ? iso(r.retryAt) : null,
    autoRetries: r.autoRetries,
    requestedBy: r.requestedBy,
    startedAt: r.startedAt.toISOString(),
    endedAt: iso(r.endedAt),
  };
}

export function recoveryDetailJson(
  r: Recovery & { instanceName?: string | null },
): z.infer<typeof RecoveryDetailJson> {
  return {
    ...recoveryJson(r),
    steps: stepSpans(r).map((s) => ({
      step: s.step,
      at: s.at.toISOString(),
      durationMs: s.durationMs,
      note: s.note,
    })),
  };
}

export const ReconcileRunJson = z
  .object({
    id: Uuid,
    startedAt: Timestamp,
    durationMs: z.number().int(),
    apps: z.number().int(),
    compared: z.number().int(),
    diverged: z.number().int(),
    recoveriesStarted: z.number().int(),
    recoveriesRetried: z.number().int(),
    recorded: z.number().int(),
    volumesDeleted: z.number().int(),
    trigger: z.string(),
    errors: z.array(z.string()),
  })
  .openapi('ReconcileRun');

export function reconcileRunJson(run: ReconcileRun): z.infer<typeof ReconcileRunJson> {
  return {
    id: run.id,
    startedAt: run.startedAt.toISOString(),
    durationMs: run.durationMs,
    apps: run.apps,
    compared: run.compared,
    diverged: run.diverged,
    recoveriesStarted: run.recoveriesStarted,
    recoveriesRetried: run.recoveriesRetried,
    recorded: run.recorded,
    volumesDeleted: run.volumesDeleted,
    trigger: run.trigger,
    errors: run.errors,
  };
}
