import { Hono } from 'hono';
import { z } from 'zod';
import { decodeCursor, encodeCursor } from '../../src/lib/cursor.ts';
import { NotFoundError } from '../../src/lib/errors.ts';
import { dispatchNow } from '../../src/notices/run.ts';
import { OutboxMessagePage, OutboxPage } from '../../views/notices/outbox.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const PAGE = 50;
const Query = z.object({
  recipient: z.preprocess(emptyAsAbsent, z.string().max(300).optional()),
  channel: z.preprocess(emptyAsAbsent, z.enum(['email', 'push']).optional()),
  kind: z.preprocess(emptyAsAbsent, z.enum(['notice', 'cancelled']).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
});

/** Console: the Outbox (embedded mode) and "Send due notices now". */
export function outboxRoutes() {
  const app = new Hono<AppEnv>();
  app.get('/outbox', htmlValidator('query', Query), async (c) => {
    const outbox = c.get('deps').dev.outbox;
    const q = c.req.valid('query');
    const { cursor: raw, ...query } = q;
    const cursor = raw ? decodeCursor(raw, 'date') : null;
    const rows = outbox
      ? await outbox.list({
          ...query,
          ...(cursor ? { before: { createdAt: new Date(String(cursor.key)), id: cursor.id } } : {}),
          limit: PAGE + 1,
        })
      : null;
    const page = rows?.slice(0, PAGE) ?? null;
    const last = page?.at(-1);
    return c.render(
      <OutboxPage
        rows={page}
        query={query}
        next={
          rows && rows.length > PAGE && last
            ? encodeCursor({ key: last.createdAt.toISOString(), id: last.id, dir: 'after' })
            : null
        }
        zone={zoneOf(c)}
      />,
      { title: 'Outbox', active: 'outbox' },
    );
  });
  app.get('/outbox/:id', htmlValidator('param', z.object({ id: z.uuid() })), async (c) => {
    const { id } = c.req.valid('param');
    const message = await c.get('deps').dev.outbox?.get(id);
    if (!message) throw new NotFoundError('Outbox message', id);
    return c.render(<OutboxMessagePage message={message} zone={zoneOf(c)} />, {
      title: message.subject,
      active: 'outbox',
    });
  });
  app.post(
    '/notices/dispatch',
    htmlValidator(
      'form',
      z.object({
        back: z
          .string()
          .regex(/^\/admin\/[A-Za-z0-9/_-]*$/)
          .optional(),
      }),
    ),
    async (c) => {
      const run = await dispatchNow({ ctx: ctxOf(c) });
      return redirectWithFlash(c, c.req.valid('form').back ?? '/admin/outbox', {
        tone: 'ok',
        text: `Due notices sent: ${run.sent} sent, ${run.failed} failed, ${run.retried} to retry${run.skipped ? `, ${run.skipped} skipped (no device)` : ''}.`,
      });
    },
  );
  return app;
}
