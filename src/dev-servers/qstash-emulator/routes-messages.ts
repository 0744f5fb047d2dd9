import { and, eq, inArray, type SQL } from 'drizzle-orm';
import { type Context, Hono } from 'hono';
import { simQstashMessages } from '../../../db/dev-schema/qstash-emulator.ts';
import type { EmulatorContext } from './context.ts';
import { qstashError, queryCount, queryList } from './http.ts';
import { messageJson } from './json.ts';
import { addEvent, cancelMessages, getMessage, listEvents } from './store.ts';

/** Messages (get, cancel) and the event log (`/v2/events`, `/v2/logs`). */
export function messageRoutes(ctx: EmulatorContext) {
  const app = new Hono();

  app.get('/v2/messages/:id', async (c) => {
    const m = await getMessage(ctx.db, c.req.param('id'));
    // QStash forgets messages shortly after they are delivered or cancelled.
    if (!m || (m.status !== 'pending' && m.status !== 'delivering'))
      return qstashError(c, 404, 'message not found');
    return c.json(messageJson(m));
  });

  const cancel = async (where: SQL | undefined, limit?: number) => {
    const now = ctx.now();
    const rows = await cancelMessages(ctx.db, where, now, limit);
    for (const m of rows)
      await addEvent(ctx.db, {
        messageId: m.messageId,
        state: 'CANCELLED',
        url: m.destination,
        time: now,
        scheduleId: m.scheduleId,
      });
    return rows.length;
  };

  app.delete('/v2/messages/:id', async (c) => {
    const id = c.req.param('id');
    const cancelled = await cancel(eq(simQstashMessages.messageId, id));
    if (cancelled === 0) return qstashError(c, 404, 'message not found or not pending');
    return c.json({ cancelled });
  });

  app.delete('/v2/messages', async (c) => {
    const ids = queryList(c, 'messageIds');
    const filters: SQL[] = [];
    if (ids.length) filters.push(inArray(simQstashMessages.messageId, ids));
    const url = c.req.query('url');
    if (url) filters.push(eq(simQstashMessages.destination, url));
    const scheduleId = c.req.query('scheduleId');
    if (scheduleId) filters.push(eq(simQstashMessages.scheduleId, scheduleId));
    return c.json({
      cancelled: await cancel(filters.length ? and(...filters) : undefined, queryCount(c, 1000)),
    });
  });

  const events = async (c: Context) => {
    const count = queryCount(c, 1000);
    const cursorText = c.req.query('cursor');
    const rows = await listEvents(ctx.db, {
      messageId: c.req.query('messageId') ?? queryList(c, 'messageIds')[0],
      state: c.req.query('state'),
      url: c.req.query('url'),
      scheduleId: c.req.query('scheduleId'),
      cursor: cursorText ? Number(cursorText) : undefined,
      count,
    });
    const page = rows.slice(0, count);
    return c.json({
      ...(rows.length > count ? { cursor: String(page.at(-1)?.id) } : {}),
      events: page.map((e) => ({
        time: e.time.getTime(),
        state: e.state,
        messageId: e.messageId,
        url: e.url,
        ...(e.nextDeliveryTime ? { nextDeliveryTime: e.nextDeliveryTime.getTime() } : {}),
        ...(e.error ? { error: e.error } : {}),
        ...(e.responseStatus !== null ? { responseStatus: e.responseStatus } : {}),
        ...(e.scheduleId ? { scheduleId: e.scheduleId } : {}),
      })),
    });
  };
  app.get('/v2/events', events);
  app.get('/v2/logs', events);

  return app;
}
