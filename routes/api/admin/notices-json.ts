import { z } from '@hono/zod-openapi';
import { NOTICE_CHANNELS, NOTICE_KINDS, NOTICE_STATUSES } from '../../../src/notices/model.ts';
import { orNull, Timestamp, Uuid } from '../schemas.ts';

export const NoticeSettingsJson = z
  .object({
    notify: z.boolean(),
    leadMinutes: z.number().int(),
    subject: z.string().nullable(),
    body: z.string().nullable(),
    channels: z.array(z.enum(NOTICE_CHANNELS)),
  })
  .openapi('NoticeSettings');

export const NoticeSummaryJson = z
  .object({
    actionId: Uuid,
    settings: orNull(NoticeSettingsJson),
    counts: z
      .array(
        z.object({
          channel: z.enum(NOTICE_CHANNELS),
          kind: z.enum(NOTICE_KINDS),
          status: z.enum(NOTICE_STATUSES),
          notices: z.number().int().openapi({ description: 'Per-instance notice rows.' }),
          messages: z
            .number()
            .int()
            .openapi({ description: 'Deliveries: one per user, naming their instances.' }),
        }),
      )
      .openapi({ description: 'By channel, kind and status.' }),
    failed: z.array(
      z.object({
        id: Uuid,
        targetId: Uuid,
        instanceId: Uuid,
        userId: Uuid,
        channel: z.enum(NOTICE_CHANNELS),
        kind: z.enum(NOTICE_KINDS),
        dueAt: Timestamp,
        error: z.string().nullable(),
      }),
    ),
  })
  .openapi('ActionNotices');

export const OutboxMessageJson = z
  .object({
    id: Uuid,
    channel: z.enum(['email', 'push']),
    recipient: z.string(),
    subject: z.string(),
    text: z.string(),
    kind: z.string().nullable(),
    actionId: z.string().nullable(),
    idempotencyKey: z.string().nullable(),
    createdAt: Timestamp,
  })
  .openapi('OutboxMessage');
