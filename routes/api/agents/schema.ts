import { z } from '@hono/zod-openapi';
import {
  type Agent,
  type AgentSession,
  CATCHUP_POLICIES,
  DEFAULT_CATCHUP_WINDOW_SECONDS,
  MAX_CATCHUP_WINDOW_SECONDS,
  OVERLAP_POLICIES,
  SESSION_REASONS,
  SESSION_STATUSES,
  SESSION_TRIGGERS,
} from '../../../src/triggers/model.ts';
import { orNull, Text, Timestamp, Uuid } from '../schemas.ts';

/** JSON shapes of agents, their sessions and fire-time previews (camelCase, ISO-8601 UTC). */

const CronExpression = Text().max(120).openapi({
  description:
    '5 fields (minute hour day-of-month month day-of-week), read in `timeZone`; null: no schedule. Daylight-saving rules: docs/cron.md.',
  example: '0 9 * * 1-5',
});
const TimeZone = Text()
  .min(1)
  .max(64)
  .openapi({ description: 'IANA time zone.', example: 'Europe/Berlin' });

const fields = {
  name: Text().trim().min(1).max(200),
  prompt: Text().min(1).max(10_000),
  cronExpression: orNull(CronExpression),
  timeZone: TimeZone,
  enabled: z.boolean(),
  overlapPolicy: z.enum(OVERLAP_POLICIES).openapi({
    description:
      'When a session of the agent is still live at a fire time (Temporal Schedules): `skip` records a skipped session; `buffer_one` starts it when the live one ends (one waiting at most); `allow_all` starts it; `cancel_other` cancels the live one, then starts.',
  }),
  catchupPolicy: z.enum(CATCHUP_POLICIES).openapi({
    description:
      'Fire times missed (claimed over 2 minutes late, e.g. after downtime), within `catchupWindowSeconds`: `skip` none, `once` the most recent, `all` each in order (the latest 100).',
  }),
  catchupWindowSeconds: z.number().int().min(60).max(MAX_CATCHUP_WINDOW_SECONDS),
};

export const AgentCreate = z
  .strictObject({
    name: fields.name,
    prompt: fields.prompt,
    cronExpression: fields.cronExpression.default(null),
    timeZone: fields.timeZone
      .optional()
      .openapi({ description: "IANA time zone; default: the instance's user's zone." }),
    enabled: fields.enabled.default(true),
    overlapPolicy: fields.overlapPolicy.default('skip'),
    catchupPolicy: fields.catchupPolicy.default('skip'),
    catchupWindowSeconds: fields.catchupWindowSeconds.default(DEFAULT_CATCHUP_WINDOW_SECONDS),
  })
  .openapi('AgentCreate');

// One flat object, not `AgentCreate.extend(…)`: an extended strict object is documented as
// an allOf whose halves each forbid the other's fields, so no body could satisfy it.
export const AdminAgentCreate = z
  .strictObject({ instanceId: Uuid, ...AgentCreate.shape })
  .openapi('AdminAgentCreate');

export const AgentPatch = z
  .strictObject({
    name: fields.name.optional(),
    prompt: fields.prompt.optional(),
    cronExpression: fields.cronExpression.optional(),
    timeZone: fields.timeZone.optional(),
    enabled: fields.enabled.optional(),
    overlapPolicy: fields.overlapPolicy.optional(),
    catchupPolicy: fields.catchupPolicy.optional(),
    catchupWindowSeconds: fields.catchupWindowSeconds.optional(),
  })
  .openapi('AgentPatch');

export const AgentJson = z
  .object({
    id: Uuid,
    instanceId: Uuid,
    name: z.string(),
    prompt: z.string(),
    cronExpression: z.string().nullable(),
    timeZone: z.string(),
    enabled: z.boolean(),
    overlapPolicy: z.enum(OVERLAP_POLICIES),
    catchupPolicy: z.enum(CATCHUP_POLICIES),
    catchupWindowSeconds: z.number().int(),
    nextFireAt: Timestamp.nullable(),
    lastFiredAt: Timestamp.nullable().openapi({
      description: 'The latest fire time that started a session.',
    }),
    lastOutcome: z.string().nullable(),
    disabledReason: z
      .string()
      .nullable()
      .openapi({ description: 'Set when the system disabled the agent.' }),
    createdAt: Timestamp,
    updatedAt: Timestamp,
  })
  .openapi('Agent');

export function agentJson(a: Agent): z.infer<typeof AgentJson> {
  return {
    id: a.id,
    instanceId: a.instanceId,
    name: a.name,
    prompt: a.prompt,
    cronExpression: a.cronExpression,
    timeZone: a.timeZone,
    enabled: a.enabled,
    overlapPolicy: a.overlapPolicy,
    catchupPolicy: a.catchupPolicy,
    catchupWindowSeconds: a.catchupWindowSeconds,
    nextFireAt: a.nextFireAt?.toISOString() ?? null,
    lastFiredAt: a.lastFiredAt?.toISOString() ?? null,
    lastOutcome: a.lastOutcome,
    disabledReason: a.disabledReason,
    createdAt: a.createdAt.toISOString(),
    updatedAt: a.updatedAt.toISOString(),
  };
}

export const SessionJson = z
  .object({
    id: Uuid,
    agentId: Uuid,
    instanceId: Uuid,
    trigger: z.enum(SESSION_TRIGGERS),
    scheduledFor: Timestamp.openapi({
      description: 'The fire time it serves (`cron`), or when it was asked for.',
    }),
    status: z.enum(SESSION_STATUSES),
    reason: z.enum(SESSION_REASONS).nullable().openapi({
      description:
        'Why it was skipped (`overlap`, `instance_not_running`, `agent_disabled`), or why a live one failed: `cancelled` (overlap policy cancel_other), `machine_lost` (Fly reports its machine stopped, failed or destroyed).',
    }),
    controllerSessionId: z.string().nullable(),
    startUnknownAt: Timestamp.nullable().openapi({
      description:
        'When a start of this session first got no sure answer (timeout, 5xx, lost connection): while it is `creating` without `controllerSessionId`, the controller may have started it, and the start is sent again with the same Idempotency-Key until it answers. Null: every start sent was answered.',
    }),
    lastError: z.string().nullable(),
    createdAt: Timestamp,
    startedAt: Timestamp.nullable(),
    endedAt: Timestamp.nullable(),
  })
  .openapi('AgentSession');

export function sessionJson(s: AgentSession): z.infer<typeof SessionJson> {
  return {
    id: s.id,
    agentId: s.agentId,
    instanceId: s.instanceId,
    trigger: s.trigger,
    scheduledFor: s.scheduledFor.toISOString(),
    status: s.status,
    reason: s.reason,
    controllerSessionId: s.controllerSessionId,
    startUnknownAt: s.startUnknownAt?.toISOString() ?? null,
    lastError: s.lastError,
    createdAt: s.createdAt.toISOString(),
    startedAt: s.startedAt?.toISOString() ?? null,
    endedAt: s.endedAt?.toISOString() ?? null,
  };
}

export const Preview = z
  .object({
    timeZone: z.string(),
    items: z.array(
      z.object({
        at: Timestamp,
        local: z.string().openapi({
          description: 'Wall-clock time in the zone, no offset.',
          example: '2026-03-09T09:00:00',
        }),
        offset: z
          .string()
          .openapi({ description: "The zone's UTC offset then.", example: '-04:00' }),
      }),
    ),
  })
  .openapi('FirePreview');

export const PreviewQuery = z.object({
  n: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(10)
    .openapi({ description: 'How many fire times, 1–100.' }),
  from: z.iso
    .datetime({ offset: true })
    .optional()
    .openapi({ description: 'ISO instant; default now. Fire times strictly after it.' }),
});

export const PreviewBody = z
  .strictObject({
    cronExpression: CronExpression,
    timeZone: TimeZone,
    n: z.number().int().min(1).max(100).default(10),
    from: z.iso.datetime({ offset: true }).optional(),
  })
  .openapi('FirePreviewRequest');

const list = <T extends string>(values: readonly [T, ...T[]]) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parsed = z.array(z.enum(values)).safeParse(v.split(','));
      if (!parsed.success) {
        ctx.addIssue({ code: 'custom', message: `use ${values.join(', ')}` });
        return z.NEVER;
      }
      return parsed.data;
    })
    .openapi({ type: 'string', description: `Comma-separated: ${values.join(', ')}` });

export const SessionFilters = { trigger: list(SESSION_TRIGGERS), status: list(SESSION_STATUSES) };
