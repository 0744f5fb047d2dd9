import { asc, eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { encodeBase64 } from 'hono/utils/encode';
import { simQstashSchedules } from '../../../db/dev-schema/qstash-emulator.ts';
import { headerMap, parsePublishConfig, refuseDestination } from './config.ts';
import type { EmulatorContext } from './context.ts';
import { destinationAfter, qstashError } from './http.ts';
import { newScheduleId } from './ids.ts';
import { scheduleJson } from './json.ts';
import { nextFire, parseCron } from './schedules.ts';

const SCHEDULE_ID = /^[A-Za-z0-9._-]{1,200}$/;

/** Schedules: create (an upsert with `Upstash-Schedule-Id`), list, get, delete, pause, resume. */
export function scheduleRoutes(ctx: EmulatorContext) {
  const app = new Hono();
  const table = simQstashSchedules;

  async function setPaused(id: string, paused: boolean) {
    const rows = await ctx.db
      .update(table)
      .set({ paused })
      .where(eq(table.scheduleId, id))
      .returning();
    if (rows[0] && !paused) ctx.notify(rows[0].nextScheduleTime);
    return rows.length > 0;
  }

  app.post('/v2/schedules/*', async (c) => {
    const rest = destinationAfter(c, '/v2/schedules/') ?? '';
    // The spec's POST pause/resume share this prefix; a destination always has a scheme.
    const control = rest.match(/^([A-Za-z0-9._-]+)\/(pause|resume)$/);
    if (control?.[1]) {
      if (!(await setPaused(control[1], control[2] === 'pause')))
        return qstashError(c, 404, 'schedule not found');
      return c.json({});
    }
    const refused = refuseDestination(ctx.origins, rest);
    if (refused) return qstashError(c, 400, refused);
    const h = headerMap(c.req.raw.headers);
    const cron = h.get('upstash-cron');
    if (!cron) return qstashError(c, 400, 'Upstash-Cron header is required');
    const parsedCron = parseCron(cron);
    if (!parsedCron.ok) return qstashError(c, 400, parsedCron.error);
    const config = parsePublishConfig(h, ctx.origins);
    if (!config.ok) return qstashError(c, 400, config.error);
    const scheduleId = h.get('upstash-schedule-id') ?? newScheduleId();
    if (!SCHEDULE_ID.test(scheduleId))
      return qstashError(c, 400, 'schedule id may contain letters, digits, -, _ and . only');
    if (!h.has('content-type')) config.config.forward['content-type'] = 'application/json';
    const now = ctx.now();
    const values = {
      cron,
      destination: rest,
      method: config.config.method,
      headers: config.config.forward,
      bodyBase64: encodeBase64(await c.req.arrayBuffer()),
      retries: config.config.retries,
      delaySeconds: config.config.delaySeconds,
      retryDelayExpression: config.config.retryDelayExpression,
      timeoutSeconds: config.config.timeoutSeconds,
      callback: config.config.callback,
      failureCallback: config.config.failureCallback,
      nextScheduleTime: nextFire(cron, now),
    };
    await ctx.db
      .insert(table)
      .values({ scheduleId, createdAt: now, ...values })
      .onConflictDoUpdate({ target: table.scheduleId, set: values });
    ctx.notify(values.nextScheduleTime);
    return c.json({ scheduleId });
  });

  app.get('/v2/schedules', async (c) => {
    const rows = await ctx.db.select().from(table).orderBy(asc(table.createdAt));
    return c.json(rows.map(scheduleJson));
  });

  app.get('/v2/schedules/:id', async (c) => {
    const [row] = await ctx.db
      .select()
      .from(table)
      .where(eq(table.scheduleId, c.req.param('id')));
    if (!row) return qstashError(c, 404, 'schedule not found');
    return c.json(scheduleJson(row));
  });

  app.delete('/v2/schedules/:id', async (c) => {
    const rows = await ctx.db
      .delete(table)
      .where(eq(table.scheduleId, c.req.param('id')))
      .returning();
    if (!rows.length) return qstashError(c, 404, 'schedule not found');
    return c.json({});
  });

  // The SDK sends PATCH; the openapi documents POST (handled above). Both are idempotent.
  for (const action of ['pause', 'resume'] as const) {
    app.patch(`/v2/schedules/:id/${action}`, async (c) => {
      if (!(await setPaused(c.req.param('id'), action === 'pause')))
        return qstashError(c, 404, 'schedule not found');
      return c.json({});
    });
  }

  return app;
}
