import { Hono } from 'hono';
import { z } from 'zod';
import {
  DLQ_ID,
  deleteDeadLetter,
  deliveriesOverview,
  retryDeadLetter,
} from '../../src/doorbells/deliveries.ts';
import { DeliveriesPage } from '../../views/deliveries/page.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { htmlValidator } from './validate.ts';

const opt = (max: number) =>
  z.preprocess((v) => (v === '' ? undefined : v), z.string().trim().max(max).optional());
// A QStash DLQ id and nothing else: the SDK puts it into its URL path unencoded.
const DlqParam = z.object({ id: z.string().max(100).regex(DLQ_ID) });

/** Console: doorbells, the dead-letter queue, schedules and sweep runs. */
export function deliveryRoutes() {
  const app = new Hono<AppEnv>();
  const page = { title: 'Deliveries', active: 'deliveries' as const };

  app.get('/', htmlValidator('query', z.object({ path: opt(200), state: opt(20) })), async (c) => {
    const deps = c.get('deps');
    const q = c.req.valid('query');
    const overview = await deliveriesOverview(deps, q);
    return c.render(
      <DeliveriesPage
        {...overview}
        filter={{ path: q.path, state: q.state }}
        emulated={deps.config.qstash.emulated}
        zone={zoneOf(c)}
        readAt={deps.clock.now()}
      />,
      page,
    );
  });

  app.post('/dlq/:id/retry', htmlValidator('param', DlqParam), async (c) => {
    await retryDeadLetter({ ctx: ctxOf(c), input: { dlqId: c.req.valid('param').id } });
    return redirectWithFlash(c, '/admin/deliveries', {
      tone: 'ok',
      text: 'The dead letter was published again.',
    });
  });

  app.post('/dlq/:id/delete', htmlValidator('param', DlqParam), async (c) => {
    await deleteDeadLetter({ ctx: ctxOf(c), input: { dlqId: c.req.valid('param').id } });
    return redirectWithFlash(c, '/admin/deliveries', {
      tone: 'ok',
      text: 'The dead letter was deleted.',
    });
  });

  return app;
}
