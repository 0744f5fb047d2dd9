import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { AppError } from '../../src/lib/errors.ts';
import { cancelAction, cancelTarget } from '../../src/scheduler/cancel.ts';
import { TARGET_STATUSES } from '../../src/scheduler/model.ts';
import { countTargetsByStatus, getAction, listTargets } from '../../src/scheduler/queries.ts';
import { pauseAction, resumeAction } from '../../src/scheduler/resume.ts';
import { retryFailedTargets } from '../../src/scheduler/retry.ts';
import { ActionDetailPage } from '../../views/scheduler/detail.tsx';
import { isLive, ProgressPanel } from '../../views/scheduler/progress.tsx';
import { TargetsTable } from '../../views/scheduler/targets.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const IdParam = z.object({ id: z.uuid() });
const TargetsQuery = z.object({
  status: z.preprocess(emptyAsAbsent, z.enum(TARGET_STATUSES).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
  notice: z.preprocess(emptyAsAbsent, z.string().max(30).optional()),
});
type TargetsQuery = z.infer<typeof TargetsQuery>;

const NOTICES: Record<string, string> = {
  scheduled: 'Scheduled. Progress shows here as it runs.',
  cancelled: 'Action cancelled: its pending targets were cancelled.',
  'target-cancelled': 'Target cancelled.',
  resumed: 'Resumed.',
  paused: 'Paused: targets being applied finish; nothing new starts until you resume.',
  retried: 'Scheduled again: this new action retries the failed targets, starting now.',
};

async function targetsTable(c: Context<AppEnv>, id: string, q: TargetsQuery) {
  const { db } = c.get('deps');
  const [page, counts] = await Promise.all([
    listTargets(db, id, { status: q.status ? [q.status] : undefined, cursor: q.cursor }),
    countTargetsByStatus(db, id),
  ]);
  return {
    counts,
    table: (
      <TargetsTable
        actionId={id}
        rows={page.items}
        next={page.next}
        prev={page.prev}
        status={q.status}
        counts={counts}
        statuses={TARGET_STATUSES}
        zone={zoneOf(c)}
      />
    ),
  };
}

async function renderDetail(
  c: Context<AppEnv>,
  id: string,
  q: TargetsQuery,
  flash: { tone: 'ok' | 'error'; text: string } | null,
  status: 200 | 409 | 422 = 200,
) {
  const action = await getAction(c.get('deps').db, id);
  const { counts, table } = await targetsTable(c, id, q);
  c.status(status);
  return c.render(
    <ActionDetailPage
      action={action}
      pending={counts.pending ?? 0}
      targets={table}
      flash={flash}
      zone={zoneOf(c)}
    />,
    { title: 'Scheduled action', active: 'scheduler' },
  );
}

/** A 409/422 re-renders the detail page with the reason instead of an error page. */
function failed(c: Context<AppEnv>, id: string, err: unknown) {
  if (err instanceof AppError && (err.status === 409 || err.status === 422))
    return renderDetail(c, id, {}, { tone: 'error', text: err.message }, err.status);
  throw err;
}

/** Runs a verb on the action, then back to its page with a notice. */
async function act(c: Context<AppEnv>, id: string, run: () => Promise<unknown>, notice: string) {
  try {
    await run();
  } catch (err) {
    return failed(c, id, err);
  }
  return c.redirect(`/admin/scheduler/${id}?notice=${notice}`, 303);
}

/** Console: one scheduled action, its live progress, targets, pause, resume, cancel and retry. */
export function schedulerDetailRoutes() {
  const app = new Hono<AppEnv>();

  app.get(
    '/:id',
    htmlValidator('param', IdParam),
    htmlValidator('query', TargetsQuery),
    async (c) => {
      const { id } = c.req.valid('param');
      const q = c.req.valid('query');
      // htmx filter/page requests want the targets table alone.
      if (c.req.header('HX-Request') && !c.req.header('HX-Boosted')) {
        await getAction(c.get('deps').db, id);
        return c.html((await targetsTable(c, id, q)).table);
      }
      const notice = q.notice ? NOTICES[q.notice] : undefined;
      return renderDetail(c, id, q, notice ? { tone: 'ok', text: notice } : null);
    },
  );

  // Polled every 2 s while the action is live; once it has finished the page reloads.
  app.get('/:id/progress', htmlValidator('param', IdParam), async (c) => {
    const action = await getAction(c.get('deps').db, c.req.valid('param').id);
    if (!isLive(action.status)) c.header('HX-Refresh', 'true');
    return c.html(<ProgressPanel a={action} zone={zoneOf(c)} />);
  });

  app.post('/:id/cancel', htmlValidator('param', IdParam), (c) => {
    const { id } = c.req.valid('param');
    return act(c, id, () => cancelAction({ ctx: ctxOf(c), input: { actionId: id } }), 'cancelled');
  });

  app.post('/:id/resume', htmlValidator('param', IdParam), (c) => {
    const { id } = c.req.valid('param');
    return act(c, id, () => resumeAction({ ctx: ctxOf(c), input: { actionId: id } }), 'resumed');
  });

  app.post('/:id/pause', htmlValidator('param', IdParam), (c) => {
    const { id } = c.req.valid('param');
    return act(c, id, () => pauseAction({ ctx: ctxOf(c), input: { actionId: id } }), 'paused');
  });

  // The new action's page: that is where the retry's progress shows.
  app.post('/:id/retry-failed', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    try {
      const created = await retryFailedTargets({ ctx: ctxOf(c), input: { actionId: id } });
      return c.redirect(`/admin/scheduler/${created.action.id}?notice=retried`, 303);
    } catch (err) {
      return failed(c, id, err);
    }
  });

  // Back to the target's own action, whatever action the path named.
  app.post(
    '/:id/targets/:targetId/cancel',
    htmlValidator('param', IdParam.extend({ targetId: z.uuid() })),
    async (c) => {
      const { id, targetId } = c.req.valid('param');
      try {
        const target = await cancelTarget({ ctx: ctxOf(c), input: { targetId } });
        return c.redirect(`/admin/scheduler/${target.actionId}?notice=target-cancelled`, 303);
      } catch (err) {
        return failed(c, id, err);
      }
    },
  );

  return app;
}
