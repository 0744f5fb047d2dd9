import { Hono } from 'hono';
import { decodeBase64 } from 'hono/utils/encode';
import type { EmulatorContext } from './context.ts';
import { qstashError, queryCount, queryList } from './http.ts';
import { dlqJson } from './json.ts';
import { publish } from './publish.ts';
import { type DlqRow, listDlq, takeDlq } from './store.ts';

/** The dead-letter queue: list, get, delete, and retry (a new message, same body and headers). */
export function dlqRoutes(ctx: EmulatorContext) {
  const app = new Hono();

  async function republish(entry: DlqRow) {
    const m = entry.message as {
      destination: string;
      method: string;
      headers: Record<string, string>;
      bodyBase64: string;
      maxRetries: number;
      retryDelayExpression: string | null;
      timeoutSeconds: number | null;
      callback: string | null;
      failureCallback: string | null;
    };
    return publish(ctx, {
      destination: m.destination,
      body: decodeBase64(m.bodyBase64),
      config: {
        method: m.method,
        forward: m.headers,
        delaySeconds: 0,
        notBefore: null,
        retries: m.maxRetries,
        retryDelayExpression: m.retryDelayExpression,
        timeoutSeconds: m.timeoutSeconds,
        callback: m.callback,
        failureCallback: m.failureCallback,
        deduplicationId: null,
        contentBasedDeduplication: false,
      },
    });
  }

  app.get('/v2/dlq', async (c) => {
    const count = queryCount(c);
    const rows = await listDlq(ctx.db, {
      dlqIds: queryList(c, 'dlqIds'),
      messageId: c.req.query('messageId'),
      url: c.req.query('url'),
      cursor: c.req.query('cursor'),
      count,
    });
    const page = rows.slice(0, count);
    return c.json({
      messages: page.map(dlqJson),
      ...(rows.length > count ? { cursor: page.at(-1)?.dlqId } : {}),
    });
  });

  app.get('/v2/dlq/:id', async (c) => {
    const [row] = await listDlq(ctx.db, { dlqIds: [c.req.param('id')], count: 1 });
    if (!row) return qstashError(c, 404, 'dlq message not found');
    return c.json(dlqJson(row));
  });

  app.delete('/v2/dlq/:id', async (c) => {
    const rows = await takeDlq(ctx.db, [c.req.param('id')]);
    if (!rows.length) return qstashError(c, 404, 'dlq message not found');
    return c.json({ deleted: 1 });
  });

  app.delete('/v2/dlq', async (c) => {
    const ids = queryList(c, 'dlqIds');
    const rows = await takeDlq(ctx.db, ids.length ? ids : 'all', queryCount(c));
    return c.json({ deleted: rows.length });
  });

  app.post('/v2/dlq/retry/:id', async (c) => {
    const [row] = await takeDlq(ctx.db, [c.req.param('id')]);
    if (!row) return qstashError(c, 404, 'dlq message not found');
    return c.json(await republish(row), 201);
  });

  app.post('/v2/dlq/retry', async (c) => {
    const ids = queryList(c, 'dlqIds');
    const rows = await takeDlq(ctx.db, ids.length ? ids : 'all', queryCount(c));
    const responses = [];
    for (const row of rows) responses.push(await republish(row));
    return c.json({ responses }, 201);
  });

  return app;
}
