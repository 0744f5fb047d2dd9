import { z } from '@hono/zod-openapi';
import {
  DEFAULT_NOTICE_SETTINGS,
  MAX_BODY_LENGTH,
  MAX_LEAD_MINUTES,
  MAX_SUBJECT_LENGTH,
  NOTICE_CHANNELS,
} from '../../../src/notices/model.ts';
import {
  ACTION_TYPES,
  DEFAULT_MAX_IN_FLIGHT,
  MAX_IN_FLIGHT_LIMIT,
} from '../../../src/scheduler/model.ts';
import type { ScheduleInput } from '../../../src/scheduler/schedule.ts';
import { InstanceStatus, Text, Uuid } from '../schemas.ts';

/** The body of POST /scheduled-actions and /scheduled-actions/preview. */
export const ScheduleRequest = z
  .strictObject({
    actionType: z.enum(ACTION_TYPES),
    instances: z
      .union([
        z.strictObject({ ids: z.array(Uuid).min(1).max(20_000) }),
        z.strictObject({
          filter: z.strictObject({
            status: z.array(InstanceStatus).optional(),
            region: Text().max(20).optional(),
            imageTag: Text()
              .max(300)
              .optional()
              .openapi({ description: 'Instances on this image.' }),
            versionBelow: Text()
              .max(300)
              .optional()
              .openapi({ description: 'Instances on an image published before this one.' }),
            hasPin: z.boolean().optional(),
          }),
        }),
      ])
      .openapi({ description: 'Instance ids (duplicates collapse), or a filter.' }),
    runAt: z.union([z.literal('now'), z.iso.datetime({ offset: true })]).openapi({
      description: 'An ISO time at least 60 s ahead, or "now".',
      example: '2026-12-01T03:00:00Z',
    }),
    targetImageTag: Text()
      .max(300)
      .optional()
      .openapi({ description: 'Required for version_change: an available catalog image.' }),
    overridePins: z
      .boolean()
      .default(false)
      .openapi({ description: 'Include pinned instances (their pin moves to the target).' }),
    reason: Text().trim().min(1).max(500),
    rollout: z
      .strictObject({
        stages: z
          .array(z.number().int().min(1).max(100))
          .min(1)
          .max(10)
          .refine(
            (s) => s.every((v, i) => i === 0 || v > (s[i - 1] ?? 0)) && s.at(-1) === 100,
            'cumulative percentages, increasing, ending at 100',
          )
          .openapi({ example: [1, 10, 100] }),
        intervalMinutes: z
          .number()
          .min(0)
          .max(7 * 24 * 60)
          .default(0),
        failureThresholdPercent: z.number().int().min(0).max(100).nullable().default(null).openapi({
          description: "Halt when more than this % of a stage's applied + failed targets failed.",
        }),
      })
      .optional(),
    maxInFlight: z
      .number()
      .int()
      .min(1)
      .max(MAX_IN_FLIGHT_LIMIT)
      .default(DEFAULT_MAX_IN_FLIGHT)
      .openapi({
        description:
          'At most this many targets are being applied at once (the deployment-wide SCHEDULER_MAX_IN_FLIGHT also applies).',
      }),
    includeStopped: z.boolean().default(false).openapi({
      description:
        'A version change also moves stopped instances; they stay stopped, on the new version. Restarts always leave stopped instances out.',
    }),
    notify: z.boolean().default(true).openapi({
      description: 'Tell each affected user ahead of time (email, push, in-app banner).',
    }),
    leadMinutes: z
      .number()
      .int()
      .min(0)
      .max(MAX_LEAD_MINUTES)
      .default(DEFAULT_NOTICE_SETTINGS.leadMinutes)
      .openapi({
        description:
          "Minutes before each target's stage time that its notice goes out (clamped to now).",
      }),
    subject: Text()
      .trim()
      .min(1)
      .max(MAX_SUBJECT_LENGTH)
      .nullable()
      .default(null)
      .openapi({ description: "The email's subject and push title (default: the template's)." }),
    body: Text().max(MAX_BODY_LENGTH).nullable().default(null).openapi({
      description: 'Plain text added to the message (escaped; newlines kept).',
    }),
    channels: z
      .array(z.enum(NOTICE_CHANNELS))
      .max(3)
      .refine((c) => new Set(c).size === c.length, 'each channel once')
      .default([...NOTICE_CHANNELS])
      .openapi({ description: 'Any of email, push, webapp (default: all three).' }),
    skipAlreadyScheduled: z.boolean().default(false).openapi({
      description:
        'Leave out instances that already have a pending scheduled action instead of answering 409.',
    }),
  })
  .openapi('ScheduleRequest');

export function toScheduleInput(body: z.infer<typeof ScheduleRequest>): ScheduleInput {
  return {
    actionType: body.actionType,
    selection:
      'ids' in body.instances ? { ids: body.instances.ids } : { filter: body.instances.filter },
    runAt: body.runAt === 'now' ? 'now' : new Date(body.runAt),
    targetImageTag: body.targetImageTag ?? null,
    overridePins: body.overridePins,
    reason: body.reason,
    skipAlreadyScheduled: body.skipAlreadyScheduled,
    maxInFlight: body.maxInFlight,
    includeStopped: body.includeStopped,
    notices: {
      notify: body.notify,
      leadMinutes: body.leadMinutes,
      subject: body.subject,
      body: body.body?.trim() ? body.body.replace(/\r\n/g, '\n') : null,
      channels: body.channels,
    },
    ...(body.rollout
      ? {
          rollout: {
            stagePercents: body.rollout.stages,
            intervalSeconds: Math.round(body.rollout.intervalMinutes * 60),
            failureThresholdPercent: body.rollout.failureThresholdPercent,
          },
        }
      : {}),
  };
}
