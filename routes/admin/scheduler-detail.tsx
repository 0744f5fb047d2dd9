import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { instanceNames } from '../../src/fleet/instances.ts';
import { AppError } from '../../src/lib/errors.ts';
import { actionNotices } from '../../src/notices/queries.ts';
import { cancelAction, cancelTarget } from '../../src/scheduler/cancel.ts';
import { TARGET_STATUSES } from '../../src/scheduler/model.ts';
import { countTargetsByStatus, getAction, listTargets } from '../../src/scheduler/queries.ts';
import { pauseAction, resumeAction } from '../../src/scheduler/resume.ts';
import { retryFailedTargets } from '../../src/scheduler/retry.ts';
import { ActionNoticesPanel } from '../../views/notices/action-notices.tsx';
import { ActionDetailPage } from '../../views/scheduler/detail.tsx';
import { isLive, ProgressPanel } from '../../views/scheduler/progress.tsx';
import { TargetsTable } from '../../views/scheduler/targets.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const IdParam = z.object({ id: z.uuid() });
const TargetsQuery = z.object({
  status: z.preprocess(emptyAsAbsent, z.enum(TARGET_STATUSES).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
});
type TargetsQuery = z.infer<typeof TargetsQuery>;

async function targetsTable(
  c: Context<AppEnv>,
  action: { id: string; status: string },
  q: TargetsQuery,
) {
  const id = action.id;
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
        live={isLive(action.status)}
        cursor={q.cursor}
        zone={zoneOf(c)}
      />
    ),
  };
}

async function renderDetail(c: Context<AppEnv>, id: string, q: TargetsQuery) {
  const action = await getAction(c.get('deps').db, id);
  const { table } = await targetsTable(c, action, q);
  const notices = await actionNotices(c.get('deps').db, id);
  const names = await instanceNames(
    c.get('deps').db,
    notices.failed.map((f) => f.instanceId),
  );
  const panel = (
    <ActionNoticesPanel actionId={id} notices={notices} instanceNames={names} zone={zoneOf(c)} />
  );
  return c.render(
    <ActionDetailPage action={action} targets={table} notices={panel} zone={zoneOf(c)} />,
    {
      title: 'Scheduled action',
      active: 'scheduler',
    },
  );
}

/**
 * A 409/422 goes back to the action's page with the reason as a flash (POST-redirect-GET:
 * the address bar never keeps a `…/cancel` path that a reload would turn into a 404).
 */
function failed(c: Context<AppEnv>, id: string, err: unknown) {
  if (err instanceof AppError && (err.status === 409 || err.status === 422))
    return redirectWithFlash(c, `/admin/scheduler/${id}`, { tone: 'error', text: err.message });
  throw err;
}

/** Runs a verb on the action, then back to its page with a one-shot message. */
async function act(c: Context<AppEnv>, id: string, run: () => Promise<unknown>, done: string) {
  try {
    await run();
  } catch (err) {
    return failed(c, id, err);
  }
  return redirectWithFlash(c, `/admin/scheduler/${id}`, { tone: 'ok', text: done });
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
      // htmx filter/page requests, and the table's own poll, want the targets table alone.
      if (c.req.header('HX-Request') && !c.req.header('HX-Boosted')) {
        const action = await getAction(c.get('deps').db, id);
        return c.html((await targetsTable(c, action, q)).table);
      }
      return renderDetail(c, id, q);
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
    return act(
      c,
      id,
      () => cancelAction({ ctx: ctxOf(c), input: { actionId: id } }),
      'Action cancelled: its pending targets were cancelled.',
    );
  });

  // The words say what was resumed: a pause goes on where it stopped, a halt starts again.
  app.post('/:id/resume', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    const before = await getAction(c.get('deps').db, id);
    return act(
      c,
      id,
      () => resumeAction({ ctx: ctxOf(c), input: { actionId: id } }),
      before.status === 'paused'
        ? 'Resumed: the action goes on from where it was paused.'
        : 'Resumed: the halted stages run again from now.',
    );
  });

  app.post('/:id/pause', htmlValidator('param', IdParam), (c) => {
    const { id } = c.req.valid('param');
    return act(
      c,
      id,
      () => pauseAction({ ctx: ctxOf(c), input: { actionId: id } }),
      'Paused: targets being applied finish; nothing new starts until you resume.',
    );
  });

  // The new action's page: that is where the retry's progress shows.
  app.post('/:id/retry-failed', htmlValidator('param', IdParam), async (c) => {
    const { id } = c.req.valid('param');
    try {
      const created = await retryFailedTargets({ ctx: ctxOf(c), input: { actionId: id } });
      return redirectWithFlash(c, `/admin/scheduler/${created.action.id}`, {
        tone: 'ok',
        text: 'Scheduled again: this new action retries the failed targets, starting now.',
      });
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
        return redirectWithFlash(c, `/admin/scheduler/${target.actionId}`, {
          tone: 'ok',
          text: 'Target cancelled.',
        });
      } catch (err) {
        return failed(c, id, err);
      }
    },
  );

  return app;
}
