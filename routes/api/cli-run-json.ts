import { z } from '@hono/zod-openapi';
import type { CliRun as CliRunRow } from '../../src/cli-runs/model.ts';
import {
  CLI_RUN_CLEANUPS,
  CLI_RUN_SORTS,
  CLI_RUN_STATUSES,
  outputAfter,
} from '../../src/cli-runs/queries.ts';
import { Cursor, Limit, pageOf, problem, Text, Timestamp, Uuid } from './schemas.ts';

/** Shapes shared by the platform and admin CLI-run routes. */

export const CliRunStatus = z.enum(CLI_RUN_STATUSES).openapi('CliRunStatus');

export const CliRun = z
  .object({
    id: Uuid,
    instanceId: Uuid,
    instanceName: z.string(),
    userId: Uuid,
    prompt: z.string(),
    status: CliRunStatus,
    initiatedBy: z.enum(['user', 'admin']),
    initiatedByAdmin: z.object({ id: Uuid.nullable(), label: z.string() }).nullable().openapi({
      description:
        'Who started an admin run (the admin, or the admin token); always null on the platform API.',
    }),
    exitCode: z.number().int().nullable(),
    lastError: z.string().nullable().openapi({ description: 'Why the run failed, in words.' }),
    outputSize: z.number().int().openapi({ description: 'UTF-8 bytes of output seen so far.' }),
    outputCut: z
      .object({
        bytes: z.number().int().openapi({
          description: 'UTF-8 bytes the controller reported that were never read.',
        }),
        reason: z.string().openapi({ description: 'Why they could not be read.' }),
      })
      .nullable()
      .openapi({
        description:
          'Set when the run ended with output unread (a lost machine, the read limit `CLI_RUN_MAX_OUTPUT_MB`); null when all of it was read.',
      }),
    cleanup: z.enum(CLI_RUN_CLEANUPS).nullable().openapi({
      description:
        "What an ended run still owes its instance's controller: `pending`, a cancel not confirmed yet (the run may still be live on the machine; it is sent again until the controller confirms or the machine is gone); `confirmed`; `machine_gone` (Fly reports the machine stopped or destroyed). Null: nothing owed.",
    }),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    endedAt: Timestamp.nullable(),
  })
  .openapi('CliRun');

export const CliRunWithOutput = CliRun.extend({
  output: z.string().openapi({ description: 'The last 64 KiB of output.' }),
}).openapi('CliRunWithOutput');

export const CliRunOutput = z
  .object({
    runId: Uuid,
    status: CliRunStatus,
    text: z.string().openapi({ description: 'Output from `offset` on.' }),
    offset: z.number().int().openapi({ description: 'Byte offset of `text` in the whole output.' }),
    size: z.number().int().openapi({ description: 'Bytes seen so far: the next `after`.' }),
    truncated: z
      .boolean()
      .openapi({ description: 'True when bytes after `after` are older than the kept 64 KiB.' }),
  })
  .openapi('CliRunOutput');

export const StartBody = z.strictObject({
  prompt: Text().min(1).max(10_000).openapi({ example: 'The agent does not answer; repair it.' }),
});

export const OutputQuery = z.object({
  after: z.coerce
    .number()
    .int()
    .min(0)
    .default(0)
    .openapi({ description: 'Byte offset already read (the previous answer’s `size`).' }),
});

export const InstanceRunsQuery = z.object({ cursor: Cursor, limit: Limit });

export const AdminRunsQuery = z.object({
  status: CliRunStatus.optional(),
  initiatedBy: z.enum(['admin', 'user']).optional(),
  q: Text()
    .trim()
    .max(200)
    .optional()
    .openapi({ description: 'Substring of the user email, prompt text, instance id or name.' }),
  sort: z.enum(CLI_RUN_SORTS).default('created'),
  order: z.enum(['asc', 'desc']).optional(),
  cursor: Cursor,
  limit: Limit,
});

export const CliRunPage = pageOf(CliRun, 'CliRunPage');

export const startProblems = {
  404: problem('No such instance.'),
  409: problem(
    '`cli-run-live` (a run is live; `liveRunId` names it), `instance-not-running` (names the status) or `instance-busy`.',
  ),
  502: problem(
    "`controller-failed`: the instance's controller refused the start, or Fly reports its machine gone: nothing is live, and the run (`runId`) is failed with the reason. (A start whose answer was lost is not this: it is answered 201 with the run `starting`, and confirmed by sending it again with its key.)",
  ),
} as const;

export const cancelProblems = {
  404: problem('No such CLI run.'),
} as const;

export function cliRunJson(run: CliRunRow, view: 'admin' | 'platform'): z.infer<typeof CliRun> {
  return {
    id: run.id,
    instanceId: run.instanceId,
    instanceName: run.instanceName,
    userId: run.userId,
    prompt: run.prompt,
    status: run.status,
    initiatedBy: run.initiatedBy,
    initiatedByAdmin:
      view === 'admin' && run.initiatedBy === 'admin'
        ? { id: run.initiatedByAdminId, label: run.initiatedByLabel }
        : null,
    exitCode: run.exitCode,
    lastError: run.lastError,
    outputSize: run.outputSize,
    outputCut: run.outputCutReason
      ? {
          bytes: Math.max(0, run.outputReportedSize - run.outputSize),
          reason: run.outputCutReason,
        }
      : null,
    cleanup: run.cleanup,
    createdAt: run.createdAt.toISOString(),
    startedAt: run.startedAt?.toISOString() ?? null,
    endedAt: run.endedAt?.toISOString() ?? null,
  };
}

export const withOutput = (run: CliRunRow, view: 'admin' | 'platform') => ({
  ...cliRunJson(run, view),
  output: run.outputTail,
});

export function outputJson(run: CliRunRow, after: number): z.infer<typeof CliRunOutput> {
  return { runId: run.id, status: run.status, ...outputAfter(run, after) };
}
