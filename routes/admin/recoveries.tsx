import { Hono } from 'hono';
import { z } from 'zod';
import { instanceNames } from '../../src/fleet/recovery-moves.ts';
import { AppError, NotFoundError } from '../../src/lib/errors.ts';
import {
  ACTIVE_RECOVERY,
  getRecovery,
  RECOVERY_CAUSES,
  RECOVERY_STATUSES,
} from '../../src/recovery/model.ts';
import { listRecoveries, retainedVolumes, stepSpans } from '../../src/recovery/queries.ts';
import { recentReconcileRuns, reconcileNow } from '../../src/recovery/reconcile.ts';
import { retryRecovery } from '../../src/recovery/retry.ts';
import { RecoveriesPage, RecoveryDetailPage } from '../../views/pages/recoveries.tsx';
import { count, plural } from '../../views/plural.ts';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const Query = z.object({
  status: z.preprocess(emptyAsAbsent, z.enum(RECOVERY_STATUSES).optional()),
  cause: z.preprocess(emptyAsAbsent, z.enum(RECOVERY_CAUSES).optional()),
  q: z.preprocess(emptyAsAbsent, z.string().trim().max(200).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
});
const IdParam = z.object({ id: z.uuid() });

/** Console: the Recoveries page, one recovery, Retry, and Reconcile now. */
export function recoveryConsoleRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', htmlValidator('query', Query), async (c) => {
    const deps = c.get('deps');
    const q = c.req.valid('query');
    const [active, recent, retained, runs] = await Promise.all([
      listRecoveries(deps.db, { status: [...ACTIVE_RECOVERY], limit: 100 }),
      listRecoveries(deps.db, {
        status: q.status ? [q.status] : undefined,
        cause: q.cause ? [q.cause] : undefined,
        q: q.q,
        cursor: q.cursor,
        limit: 25,
      }),
      retainedVolumes(deps.db),
      recentReconcileRuns(deps.db, 10),
    ]);
    const { cursor: _, ...query } = q;
    return c.render(
      <RecoveriesPage
        active={active.items}
        recent={recent.items}
        next={recent.next}
        prev={recent.prev}
        query={query}
        retained={retained}
        runs={runs}
        settings={deps.config.recovery}
        readAt={deps.clock.now()}
        zone={zoneOf(c)}
      />,
      { title: 'Recoveries', active: 'recoveries' },
    );
  });

  app.post('/reconcile', async (c) => {
    const run = await reconcileNow({ ctx: ctxOf(c) });
    return redirectWithFlash(c, '/admin/recoveries', {
      tone: run.errors.length ? 'warn' : 'ok',
      text: `Reconciled ${count(run.compared, 'instance')}: ${run.diverged} diverged, ${plural(run.recoveriesStarted, { one: '# recovery begun', other: '# recoveries begun' })}, ${run.recoveriesRetried ? `${plural(run.recoveriesRetried, { one: '# failed recovery resumed', other: '# failed recoveries resumed' })}, ` : ''}${plural(run.volumesDeleted, { one: '# retained volume deleted', other: '# retained volumes deleted' })}.${run.errors.length ? ` Errors: ${run.errors.join('; ')}` : ''}`,
    });
  });

  app.get('/:id', htmlValidator('param', IdParam), async (c) => {
    const { db } = c.get('deps');
    const { id } = c.req.valid('param');
    const r = await getRecovery(db, id);
    if (!r) throw new NotFoundError('Recovery', id);
    const names = await instanceNames(db, [r.instanceId]);
    return c.render(
      <RecoveryDetailPage
        r={{ ...r, instanceName: names.get(r.instanceId) ?? null }}
        steps={stepSpans(r)}
        zone={zoneOf(c)}
      />,
      { title: 'Recovery', active: 'recoveries' },
    );
  });

  app.post(
    '/:id/retry',
    htmlValidator('param', IdParam),
    htmlValidator('query', z.object({ from: z.enum(['instance']).optional() })),
    async (c) => {
      const { id } = c.req.valid('param');
      const r = await getRecovery(c.get('deps').db, id);
      if (!r) throw new NotFoundError('Recovery', id);
      const back =
        c.req.valid('query').from === 'instance'
          ? `/admin/instances/${r.instanceId}`
          : `/admin/recoveries/${id}`;
      try {
        await retryRecovery({ ctx: ctxOf(c), input: { recoveryId: id } });
      } catch (err) {
        if (err instanceof AppError && err.status === 409)
          return redirectWithFlash(c, back, { tone: 'error', text: err.message });
        throw err;
      }
      return redirectWithFlash(c, back, { tone: 'ok', text: 'Recovery resumed.' });
    },
  );

  return app;
}
