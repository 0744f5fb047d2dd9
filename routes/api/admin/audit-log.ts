import { createRoute, z } from '@hono/zod-openapi';
import { listAudit } from '../../../src/audit/audit.ts';
import { apiApp } from '../app.ts';
import { Cursor, commonProblems, Limit, pageOf, Text, Timestamp, Uuid } from '../schemas.ts';

const AuditEntry = z
  .object({
    id: Uuid,
    at: Timestamp,
    actor: z.object({
      type: z.enum(['admin', 'api_key', 'system']),
      id: z.string().nullable(),
      label: z.string(),
    }),
    action: z.string().openapi({ example: 'api_key.revoke' }),
    subject: z.object({ type: z.string(), id: z.string().nullable() }).nullable(),
    payload: z.record(z.string(), z.unknown()),
    requestId: z.string().nullable(),
  })
  .openapi('AuditEntry');

const route = createRoute({
  method: 'get',
  path: '/audit-log',
  tags: ['audit'],
  summary: 'The audit log, newest first',
  security: [{ adminToken: [] }],
  request: {
    query: z.object({
      actor: Text()
        .max(320)
        .optional()
        .openapi({ description: 'Actor id or label (email, key label).' }),
      action: Text()
        .max(100)
        .optional()
        .openapi({ description: 'Exact action, or a prefix ending in `.`.' }),
      subjectType: Text().max(50).optional(),
      subjectId: Text().max(100).optional(),
      cursor: Cursor,
      limit: Limit,
    }),
  },
  responses: {
    200: {
      description: 'A page of entries.',
      content: { 'application/json': { schema: pageOf(AuditEntry, 'AuditPage') } },
    },
    ...commonProblems,
  },
});

export function auditLogRoutes() {
  return apiApp().openapi(route, async (c) => {
    const page = await listAudit(c.get('deps').db, c.req.valid('query'));
    return c.json(
      {
        items: page.items.map((r) => ({
          id: r.id,
          at: r.at.toISOString(),
          actor: { type: r.actorType, id: r.actorId, label: r.actorLabel },
          action: r.action,
          subject: r.subjectType ? { type: r.subjectType, id: r.subjectId } : null,
          payload: r.payload,
          requestId: r.requestId,
        })),
        nextCursor: page.next,
        prevCursor: page.prev,
      },
      200,
    );
  });
}
