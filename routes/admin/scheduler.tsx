import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { eligibleInstances } from '../../src/console/eligible.ts';
import { listCatalog } from '../../src/fleet/catalog.ts';
import {
  INSTANCE_STATUSES,
  instanceFacets,
  instanceNames,
  resolveInstanceRefs,
} from '../../src/fleet/instances.ts';
import { AppError } from '../../src/lib/errors.ts';
import { zonedInputValue } from '../../src/lib/zoned-time.ts';
import { previewNotice } from '../../src/notices/preview.ts';
import { ACTION_STATUSES, DEFAULT_MAX_IN_FLIGHT } from '../../src/scheduler/model.ts';
import { ACTION_SORTS, listActions } from '../../src/scheduler/queries.ts';
import {
  type Preview,
  previewSchedule,
  type ScheduleInput,
  scheduleAction,
} from '../../src/scheduler/schedule.ts';
import { NoticePreviewPanel } from '../../views/notices/notify-fields.tsx';
import { plural } from '../../views/plural.ts';
import { ActionsTable } from '../../views/scheduler/actions.tsx';
import { ConfirmPage } from '../../views/scheduler/confirm.tsx';
import { CONFIRM_PAGE_SIZE, ConfirmInstances } from '../../views/scheduler/confirm-instances.tsx';
import type { SchedulerValues } from '../../views/scheduler/form.tsx';
import { type SchedulerFlash, SchedulerPage } from '../../views/scheduler/page.tsx';
import { PreviewPanel } from '../../views/scheduler/preview.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { parseIds, SchedulerForm, toScheduleInputFromForm } from './scheduler-form.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const ActionsQuery = z.object({
  status: z.preprocess(emptyAsAbsent, z.enum(ACTION_STATUSES).optional()),
  sort: z.preprocess(emptyAsAbsent, z.enum(ACTION_SORTS).default('run_at')),
  order: z.preprocess(emptyAsAbsent, z.enum(['asc', 'desc']).default('desc')),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
});
type ActionsQuery = z.infer<typeof ActionsQuery>;

const actionsPage = (c: Context<AppEnv>, q: ActionsQuery) =>
  listActions(c.get('deps').db, { ...q, status: q.status ? [q.status] : undefined });

/**
 * The form with pasted names replaced by ids (pasted ids are kept). A name that matches no
 * instance is a 400 naming it, shown beside the form like any other mistake.
 */
async function withIds(c: Context<AppEnv>, values: SchedulerValues): Promise<SchedulerValues> {
  if (values.pick !== 'ids') return values;
  const { ids, unknown } = await resolveInstanceRefs(c.get('deps').db, parseIds(values.ids));
  if (unknown.length)
    throw new AppError(
      400,
      'invalid-request',
      'Check the form',
      `${plural(unknown.length, { one: 'No instance is named', other: 'No instances are named' })} ${unknown.slice(0, 10).join(', ')}${unknown.length > 10 ? ', …' : ''}.`,
    );
  return { ...values, ids: ids.join('\n') };
}

/** The first few excluded ids of each reason, named for the lists. */
async function exclusionNames(c: Context<AppEnv>, p: Preview) {
  const ids = Object.values(p.exclusions).flatMap((list) => list.slice(0, 50));
  return instanceNames(c.get('deps').db, ids);
}

/**
 * The confirmation step: the strict preview (refusing what scheduling would refuse) shown
 * with the form's values carried along, plus the instant and count the admin is agreeing
 * to, so the confirmed request can be held to them. `notice` says why it is shown again.
 */
async function renderConfirm(
  c: Context<AppEnv>,
  values: SchedulerValues,
  input: ScheduleInput,
  notice: string | null = null,
) {
  const preview = await previewSchedule(ctxOf(c), input, { strict: true });
  const [names, instances] = await Promise.all([
    exclusionNames(c, preview),
    confirmInstances(c, input, 0),
  ]);
  if (notice) c.status(409);
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
      names={names}
      zone={zoneOf(c)}
      notice={notice}
      instances={instances}
      maxInFlight={input.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT}
      notices={preview.notices}
    />,
    { title: 'Confirm scheduling', active: 'scheduler' },
  );
}

/** A page of the instances the confirmation is about. */
async function confirmInstances(c: Context<AppEnv>, input: ScheduleInput, offset: number) {
  const page = await eligibleInstances(c.get('deps').db, input, {
    offset,
    limit: CONFIRM_PAGE_SIZE,
  });
  return <ConfirmInstances rows={page.items} total={page.total} offset={offset} />;
}

/** What the confirmation page agreed to: the UTC instant and the eligible count. */
const Confirmed = SchedulerForm.extend({
  confirmed: z.literal('true'),
  runAtUtc: z.iso.datetime().optional(),
  expectedEligible: z.coerce.number().int().min(0).optional(),
});

/** The preview fragment for what the form says now; bad input shows its message in it. */
async function previewFor(c: Context<AppEnv>, values: SchedulerValues) {
  const zone = zoneOf(c);
  const base = { zone, names: new Map<string, string>(), now: values.when === 'now' };
  const skip = values.skipAlreadyScheduled === 'true';
  if (values.pick === 'ids' && !parseIds(values.ids).length)
    return <PreviewPanel {...base} preview={null} error={null} skipAlreadyScheduled={skip} />;
  try {
    const input = toScheduleInputFromForm(await withIds(c, values), zone, {
      requireReason: false,
    });
    const preview = await previewSchedule(ctxOf(c), input);
    const names = await exclusionNames(c, preview);
    const notice = await previewNotice(c.get('deps').db, {
      actionType: input.actionType,
      targetImageTag: input.targetImageTag ?? null,
      settings: preview.notices,
      at: preview.runAt,
      sample: preview.sample,
      fallbackZone: zone,
    });
    return (
      <PreviewPanel
        {...base}
        names={names}
        preview={preview}
        error={null}
        skipAlreadyScheduled={skip}
        notice={
          <NoticePreviewPanel
            preview={notice}
            firstDueAt={preview.notices.firstDueAt}
            zone={zone}
          />
        }
      />
    );
  } catch (err) {
    if (!(err instanceof AppError) || err.status >= 500) throw err;
    return (
      <PreviewPanel {...base} preview={null} error={err.message} skipAlreadyScheduled={skip} />
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
  const inAnHour = Math.ceil((clock.now().getTime() + 3_600_000) / 300_000) * 300_000;
  const defaultRunAt = zonedInputValue(new Date(inAnHour), zone);
  const [page, facets, catalog, preview] = await Promise.all([
    actionsPage(c, query),
    instanceFacets(db),
    listCatalog(db),
    // The form shows the default run time until one is chosen: preview that same time.
    previewFor(c, { ...values, runAt: values.runAt || defaultRunAt }),
  ]);
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
      defaultRunAt={defaultRunAt}
      preview={preview}
      flash={flash}
      actions={{
        rows: page.items,
        next: page.next,
        prev: page.prev,
        query,
        statuses: ACTION_STATUSES,
      }}
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
  // The domain's message counts with "instance(s)"; the console says it in words.
  const text =
    err.status === 409 && ids.length
      ? `${plural(ids.length, {
          one: '# instance already has a pending scheduled action.',
          other: '# instances already have a pending scheduled action.',
        })} Tick "Skip instances that already have a pending action" to leave them out:`
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

  // The confirmation's instance list, a page at a time (its pager posts the hidden fields).
  app.post(
    '/confirm/instances',
    htmlValidator('query', z.object({ offset: z.coerce.number().int().min(0).max(20_000) })),
    htmlValidator('form', SchedulerForm),
    async (c) => {
      const values = c.req.valid('form');
      const input = toScheduleInputFromForm(await withIds(c, values), zoneOf(c), {
        requireReason: false,
      });
      return c.html(await confirmInstances(c, input, c.req.valid('query').offset));
    },
  );

  // The confirmation is a POST result; its address reloaded (or bookmarked) is the form.
  app.get('/confirm', (c) =>
    redirectWithFlash(c, '/admin/scheduler', {
      tone: 'warn',
      text: 'Nothing was scheduled: a confirmation is not kept across reloads. Fill in the form and review again.',
    }),
  );

  app.post('/preview', htmlValidator('form', SchedulerForm), async (c) =>
    c.html(await previewFor(c, c.req.valid('form'))),
  );

  // Back from the confirmation: the form again, as the admin left it.
  app.post('/edit', htmlValidator('form', SchedulerForm), (c) =>
    renderScheduler(c, c.req.valid('form'), ActionsQuery.parse({})),
  );

  app.post('/confirm', htmlValidator('form', SchedulerForm), async (c) => {
    const values = c.req.valid('form');
    try {
      return await renderConfirm(
        c,
        values,
        toScheduleInputFromForm(await withIds(c, values), zoneOf(c), { requireReason: true }),
      );
    } catch (err) {
      return formFailed(c, values, err);
    }
  });

  // Only the confirmed form schedules, and only what was confirmed: the run time is the
  // instant shown (not the wall-clock time read again, in case the admin's zone changed),
  // and a selection whose eligible count moved since is shown for confirmation again.
  app.post('/', htmlValidator('form', Confirmed), async (c) => {
    const { confirmed: _, runAtUtc, expectedEligible, ...values } = c.req.valid('form');
    try {
      const parsed = toScheduleInputFromForm(await withIds(c, values), zoneOf(c), {
        requireReason: true,
      });
      const input: ScheduleInput =
        runAtUtc && parsed.runAt !== 'now' ? { ...parsed, runAt: new Date(runAtUtc) } : parsed;
      if (expectedEligible !== undefined) {
        const now = await previewSchedule(ctxOf(c), input, { strict: true });
        if (now.eligible !== expectedEligible)
          return await renderConfirm(
            c,
            values,
            input,
            `The selection changed since you reviewed it: ${now.eligible} eligible now, ${expectedEligible} before. Check again, then confirm.`,
          );
      }
      const { action } = await scheduleAction({ ctx: ctxOf(c), input });
      return redirectWithFlash(c, `/admin/scheduler/${action.id}`, {
        tone: 'ok',
        text: 'Scheduled. Progress shows here as it runs.',
      });
    } catch (err) {
      return formFailed(c, values, err);
    }
  });

  return app;
}
