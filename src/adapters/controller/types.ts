// The instance controller's wire shapes (docs/controller-openapi.yaml), parsed with zod so a
// controller that answers something else is an `invalid_response` error, not a crash later.
import { z } from 'zod';

/** Which machine to reach, and the fleetwarden instance whose token it expects. */
export type ControllerTarget = { appName: string; machineId: string; instanceId: string };

const Timestamp = z.iso.datetime({ offset: true });

export const CliRunStarted = z.object({ runId: z.string().min(1), startedAt: Timestamp });
export type CliRunStarted = z.infer<typeof CliRunStarted>;

export const CLI_RUN_STATUSES = ['running', 'completed', 'failed', 'cancelled'] as const;

export const ControllerCliRun = z.object({
  runId: z.string().min(1),
  status: z.enum(CLI_RUN_STATUSES),
  exitCode: z.number().int().nullable(),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  /** UTF-8 bytes of output written so far. */
  outputSize: z.number().int().min(0),
});
export type ControllerCliRun = z.infer<typeof ControllerCliRun>;

export const CliRunOutput = z.object({
  runId: z.string(),
  chunks: z.array(z.object({ offset: z.number().int().min(0), text: z.string() })),
  nextOffset: z.number().int().min(0),
  complete: z.boolean(),
});
export type CliRunOutput = z.infer<typeof CliRunOutput>;

export const SESSION_TRIGGERS = ['api', 'cron', 'manual'] as const;
export type SessionTrigger = (typeof SESSION_TRIGGERS)[number];

export const ControllerSession = z.object({
  sessionId: z.string().min(1),
  agentId: z.string(),
  trigger: z.enum(SESSION_TRIGGERS),
  status: z.enum(['creating', 'ready', 'completed', 'failed', 'cancelled']),
  createdAt: Timestamp,
  endedAt: Timestamp.nullable(),
});
export type ControllerSession = z.infer<typeof ControllerSession>;

export const ControllerErrorBody = z.object({
  error: z.string(),
  message: z.string().optional(),
  liveRunId: z.string().optional(),
});
