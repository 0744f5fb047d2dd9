import { createRoute, z } from '@hono/zod-openapi';
import { decodeCursor, encodeCursor } from '../../../src/lib/cursor.ts';
import { NotFoundError } from '../../../src/lib/errors.ts';
import { actionNotices } from '../../../src/notices/queries.ts';
import { dispatchNow } from '../../../src/notices/run.ts';
import { getAction } from '../../../src/scheduler/queries.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { Cursor, commonProblems, Limit, notFoundProblem, Text, Uuid } from '../schemas.ts';
import { NoticeSummaryJson, OutboxMessageJson } from './notices-json.ts';

const json = <T extends z.ZodType>(schema: T) => ({ 'application/json': { schema } });
const security = [{ adminToken: [] }];

const Dispatched = z
  .object({
    claimed: z.number().int(),
    sent: z.number().int(),
    failed: z.number().int(),
    skipped: z.number().int().openapi({
      description: 'Not sent: nothing to send them to (push: the user has no device).',
    }),
    retried: z.number().int(),
    continueAt: z.string().nullable(),
    retryAt: z.string().nullable(),
  })
  .openapi('NoticeDispatch');

const routes = {
  outbox: createRoute({
    method: 'get',
    path: '/outbox',
    tags: ['notices'],
    security,
    summary: "The outbox's messages, newest first (embedded mode and tests)",
    request: {
      query: z.object({
        recipient: Text()
          .max(300)
          .optional()
          .openapi({ description: 'Part of the address or token.' }),
        channel: z.enum(['email', 'push']).optional(),
        kind: z.enum(['notice', 'cancelled']).optional(),
        actionId: Uuid.optional(),
        cursor: Cursor,
        limit: Limit,
      }),
    },
    responses: {
      200: {
        description: 'A page of messages, each with its rendered subject and text.',
        content: json(
          z.object({ items: z.array(OutboxMessageJson), nextCursor: z.string().nullable() }),
        ),
      },
      ...commonProblems,
      404: notFoundProblem[404],
    },
  }),
  actionNotices: createRoute({
    method: 'get',
    path: '/scheduled-actions/{id}/notices',
    tags: ['notices'],
    security,
    summary:
      "An action's notices: counts by channel and status, and the failed ones with their errors",
    request: { params: z.object({ id: Uuid }) },
    responses: {
      200: { description: 'The notices.', content: json(NoticeSummaryJson) },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
  dispatch: createRoute({
    method: 'post',
    path: '/notices/dispatch',
    tags: ['notices'],
    security,
    summary: 'Send due notices now (audited)',
    responses: {
      200: { description: 'What the dispatch did.', content: json(Dispatched) },
      ...commonProblems,
    },
  }),
};

/** /api/admin: the outbox, an action's notices, and "send due notices now". */
export function noticeRoutes() {
  const app = apiApp();
  app.openapi(routes.outbox, async (c) => {
    const outbox = c.get('deps').dev.outbox;
    if (!outbox) throw new NotFoundError('Outbox', 'this deployment sends through real providers');
    const q = c.req.valid('query');
    const cursor = q.cursor ? decodeCursor(q.cursor, 'date') : null;
    const rows = await outbox.list({
      ...(q.recipient ? { recipient: q.recipient } : {}),
      ...(q.channel ? { channel: q.channel } : {}),
      ...(q.kind ? { kind: q.kind } : {}),
      ...(q.actionId ? { actionId: q.actionId } : {}),
      ...(cursor ? { before: { createdAt: new Date(String(cursor.key)), id: cursor.id } } : {}),
      limit: q.limit + 1,
    });
    const items = rows.slice(0, q.limit);
    const last = items.at(-1);
    return c.json(
      {
        items: items.map((m) => ({
          id: m.id,
          channel: m.channel,
          recipient: m.recipient,
          subject: m.subject,
          text: m.text,
          kind: m.tags.kind ?? null,
          actionId: m.tags.actionId ?? null,
          idempotencyKey: m.idempotencyKey,
          createdAt: m.createdAt.toISOString(),
        })),
        nextCursor:
          rows.length > q.limit && last
            ? encodeCursor({ key: last.createdAt.toISOString(), id: last.id, dir: 'after' })
            : null,
      },
      200,
    );
  });
  app.openapi(routes.actionNotices, async (c) => {
    const { db } = c.get('deps');
    const { id } = c.req.valid('param');
    await getAction(db, id);
    const n = await actionNotices(db, id);
    return c.json(
      {
        actionId: id,
        settings: n.settings
          ? {
              notify: n.settings.notify,
              leadMinutes: n.settings.leadMinutes,
              subject: n.settings.subject,
              body: n.settings.body,
              channels: n.settings.channels,
            }
          : null,
        counts: n.counts,
        failed: n.failed.map((f) => ({
          id: f.id,
          targetId: f.targetId,
          instanceId: f.instanceId,
          userId: f.userId,
          channel: f.channel,
          kind: f.kind,
          dueAt: f.dueAt.toISOString(),
          error: f.lastError,
        })),
      },
      200,
    );
  });
  app.openapi(routes.dispatch, async (c) => {
    const run = await dispatchNow({ ctx: ctxOf(c) });
    return c.json(
      {
        claimed: run.claimed,
        sent: run.sent,
        failed: run.failed,
        skipped: run.skipped,
        retried: run.retried,
        continueAt: run.continueAt?.toISOString() ?? null,
        retryAt: run.retryAt?.toISOString() ?? null,
      },
      200,
    );
  });
  return app;
}
