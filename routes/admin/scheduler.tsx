import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { listCatalog } from '../../src/fleet/catalog.ts';
import { INSTANCE_STATUSES, instanceFacets, instanceNames } from '../../src/fleet/instances.ts';
import { AppError, ConflictError, UnprocessableError } from '../../src/lib/errors.ts';
import { ACTION_STATUSES } from '../../src/scheduler/model.ts';
import { ACTION_SORTS, listActions } from '../../src/scheduler/queries.ts';
import {
  type Preview,
  previewSchedule,
  type ScheduleInput,
  scheduleAction,
} from '../../src/scheduler/schedule.ts';
import { zonedInputValue } from '../../views/format.ts';
import { ActionsTable } from '../../views/scheduler/actions.tsx';
import { ConfirmPage } from '../../views/scheduler/confirm.tsx';
import type { SchedulerValues } from '../../views/scheduler/form.tsx';
import { type SchedulerFlash, SchedulerPage } from '../../views/scheduler/page.tsx';
import { PreviewPanel } from '../../views/scheduler/preview.tsx';
import { type AppEnv, ctxOf } from '../env.ts';
import { parseIds, SchedulerForm, toScheduleInputFromForm } from './scheduler-form.ts';
import { htmlValidator } from './validate.ts';

const empty = (v: unknown) => (v === '' ? undefined : v);
const ActionsQuery = z.object({
  status: z.preprocess(empty, z.enum(ACTION_STATUSES).optional()),
  sort: z.preprocess(empty, z.enum(ACTION_SORTS).default('run_at')),
  order: z.preprocess(empty, z.enum(['asc', 'desc']).default('desc')),
  cursor: z.preprocess(empty, z.string().max(1000).optional()),
});
type ActionsQuery = z.infer<typeof ActionsQuery>;

const zoneOf = (c: Context<AppEnv>) => c.get('timeZone') ?? 'UTC';
const actionsPage = (c: Context<AppEnv>, q: ActionsQuery) =>
  listActions(c.get('deps').db, { ...q, status: q.status ? [q.status] : undefined });

/** The first few excluded ids of each reason, named for the lists. */
async function exclusionNames(c: Context<AppEnv>, p: Preview) {
  const ids = Object.values(p.exclusions).flatMap((list) => list.slice(0, 50));
  return instanceNames(c.get('deps').db, ids);
}

/** With pins overridden: how many selected instances are pinned to another version. */
async function pinsOverridden(c: Context<AppEnv>, input: ScheduleInput): Promise<number> {
  if (input.actionType !== 'version_change' || !input.overridePins) return 0;
  const without = await previewSchedule(ctxOf(c), { ...input, overridePins: false });
  return without.exclusions.pinned.length;
}

/** The preview fragment for what the form says now; bad input shows its message in it. */
async function previewFor(c: Context<AppEnv>, values: SchedulerValues) {
  const zone = zoneOf(c);
  const base = { zone, names: new Map<string, string>(), now: values.when === 'now' };
  const skip = values.skipAlreadyScheduled === 'true';
  if (values.pick === 'ids' && !parseIds(values.ids).length)
    return (
      <PreviewPanel
        {...base}
        preview={null}
        error={null}
        pinsOverridden={0}
        skipAlreadyScheduled={skip}
      />
    );
  try {
    const input = toScheduleInputFromForm(values, zone, { requireReason: false });
    const preview = await previewSchedule(ctxOf(c), input);
    const [names, pins] = await Promise.all([exclusionNames(c, preview), pinsOverridden(c, input)]);
    return (
      <PreviewPanel
        {...base}
        names={names}
        preview={preview}
        error={null}
        pinsOverridden={pins}
        skipAlreadyScheduled={skip}
      />
    );
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    return (
      <PreviewPanel
        {...base}
        preview={null}
        error={err.message}
        pinsOverridden={0}
        skipAlreadyScheduled={skip}
      />
    );
  }
}

async function renderScheduler(
  c: Context<AppEnv>,
  values: SchedulerValues,
  query: ActionsQuery,
  flash: SchedulerFlash | null = null,
  status: 200 | 400 | 409 | 422 = 200,
) {
  const { db, clock } = c.get('deps');
  const zone = zoneOf(c);
  const [page, facets, catalog, preview] = await Promise.all([
    actionsPage(c, query),
    instanceFacets(db),
    listCatalog(db),
    previewFor(c, values),
  ]);
  const inAnHour = Math.ceil((clock.now().getTime() + 3_600_000) / 300_000) * 300_000;
  c.status(status);
  return c.render(
    <SchedulerPage
      values={values}
      options={{
        statuses: INSTANCE_STATUSES,
        regions: facets.regions,
        imageTags: facets.imageTags,
        availableTags: catalog.filter((i) => i.status === 'available').map((i) => i.imageTag),
      }}
      defaultRunAt={zonedInputValue(new Date(inAnHour), zone)}
      preview={preview}
      flash={flash}
      actions={{ rows: page.items, next: page.next, prev: page.prev, query }}
      zone={zone}
    />,
    { title: 'Scheduler', active: 'scheduler' },
  );
}

/** A 400/409/422 shows the form again with what the admin typed and the reason. */
async function formFailed(c: Context<AppEnv>, values: SchedulerValues, err: unknown) {
  if (!(err instanceof AppError) || ![400, 409, 422].includes(err.status)) throw err;
  const ids = (err.extra.conflictingInstanceIds as string[] | undefined) ?? [];
  const names = await instanceNames(c.get('deps').db, ids);
  const text =
    err.status === 409 && ids.length
      ? `${err.message} Tick "Skip instances that already have a pending action" to leave them out:`
      : err.message;
  return renderScheduler(
    c,
    values,
    ActionsQuery.parse({}),
    { tone: 'error', text, instances: ids.map((id) => ({ id, name: names.get(id) ?? null })) },
    err.status as 400 | 409 | 422,
  );
}

/** Console: the scheduler page, its live preview, the confirmation step and scheduling. */
export function schedulerRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', htmlValidator('query', ActionsQuery.extend(SchedulerForm.shape)), async (c) => {
    const { status, sort, order, cursor, ...values } = c.req.valid('query');
    const query = { status, sort, order, cursor };
    // htmx sort/filter/page requests want the table alone.
    if (c.req.header('HX-Request') && !c.req.header('HX-Boosted')) {
      const page = await actionsPage(c, query);
      return c.html(
        <ActionsTable
          rows={page.items}
          next={page.next}
          prev={page.prev}
          query={query}
          zone={zoneOf(c)}
        />,
      );
    }
    return renderScheduler(c, values, query);
  });

  app.post('/preview', htmlValidator('form', SchedulerForm), async (c) =>
    c.html(await previewFor(c, c.req.valid('form'))),
  );

  // Back from the confirmation: the form again, as the admin left it.
  app.post('/edit', htmlValidator('form', SchedulerForm), (c) =>
    renderScheduler(c, c.req.valid('form'), ActionsQuery.parse({})),
  );

  app.post('/confirm', htmlValidator('form', SchedulerForm), async (c) => {
    const values = c.req.valid('form');
    const zone = zoneOf(c);
    try {
      const input = toScheduleInputFromForm(values, zone, { requireReason: true });
      const preview = await previewSchedule(ctxOf(c), input);
      const conflicts = preview.exclusions.alreadyScheduled;
      if (conflicts.length && !input.skipAlreadyScheduled)
        throw new ConflictError(
          `${conflicts.length} instance(s) already have a pending scheduled action.`,
          { conflictingInstanceIds: conflicts },
        );
      if (preview.eligible === 0)
        throw new UnprocessableError('No instance in the selection is eligible.');
      const [names, pins] = await Promise.all([
        exclusionNames(c, preview),
        pinsOverridden(c, input),
      ]);
      return c.render(
        <ConfirmPage
          values={{
            ...values,
            ids: values.pick === 'ids' ? parseIds(values.ids).join(', ') : undefined,
          }}
          actionType={input.actionType}
          targetImageTag={input.targetImageTag ?? null}
          overridePins={input.overridePins ?? false}
          reason={input.reason}
          now={input.runAt === 'now'}
          preview={preview}
          intervalMinutes={(input.rollout?.intervalSeconds ?? 0) / 60}
          failureThresholdPercent={input.rollout?.failureThresholdPercent ?? null}
          pinsOverridden={pins}
          names={names}
          zone={zone}
        />,
        { title: 'Confirm scheduling', active: 'scheduler' },
      );
    } catch (err) {
      return formFailed(c, values, err);
    }
  });

  // Only the confirmed form schedules.
  app.post(
    '/',
    htmlValidator('form', SchedulerForm.extend({ confirmed: z.literal('true') })),
    async (c) => {
      const { confirmed: _, ...values } = c.req.valid('form');
      try {
        const input = toScheduleInputFromForm(values, zoneOf(c), { requireReason: true });
        const { action } = await scheduleAction({ ctx: ctxOf(c), input });
        return c.redirect(`/admin/scheduler/${action.id}?notice=scheduled`, 303);
      } catch (err) {
        return formFailed(c, values, err);
      }
    },
  );

  return app;
}
