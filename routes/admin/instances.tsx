import { type Context, Hono } from 'hono';
import { z } from 'zod';
import { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { listCatalog } from '../../src/fleet/catalog.ts';
import { importFlyApp } from '../../src/fleet/import.ts';
import {
  countInstances,
  INSTANCE_SORTS,
  INSTANCE_STATUSES,
  instanceFacets,
  instanceNames,
  listInstances,
} from '../../src/fleet/instances.ts';
import { provisionInstance } from '../../src/fleet/provision.ts';
import { AppError } from '../../src/lib/errors.ts';
import { scheduleAction } from '../../src/scheduler/schedule.ts';
import type { FlashMessage } from '../../views/components/flash.tsx';
import { InstancesPage, InstancesTable } from '../../views/pages/instances.tsx';
import { count, plural } from '../../views/plural.ts';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { emptyAsAbsent, htmlValidator } from './validate.ts';

const ProvisionForm = z.object({
  userEmail: z.email('must be an email address'),
  displayName: z.string().trim().max(100).optional(),
  region: z.string().regex(/^[a-z]{3}$/, 'a Fly region code such as ams'),
  imageTag: z.string().max(300).optional(),
});

export const PAGE_SIZES = [25, 50, 100, 200] as const;

export const InstancesQuery = z.object({
  q: z.preprocess(emptyAsAbsent, z.string().trim().max(200).optional()),
  status: z.preprocess(emptyAsAbsent, z.enum(INSTANCE_STATUSES).optional()),
  region: z.preprocess(emptyAsAbsent, z.string().max(20).optional()),
  imageTag: z.preprocess(emptyAsAbsent, z.string().max(200).optional()),
  sort: z.preprocess(emptyAsAbsent, z.enum(INSTANCE_SORTS).default('created')),
  order: z.preprocess(emptyAsAbsent, z.enum(['asc', 'desc']).optional()),
  cursor: z.preprocess(emptyAsAbsent, z.string().max(1000).optional()),
  /** Rows per page: one of PAGE_SIZES. */
  limit: z.preprocess(
    emptyAsAbsent,
    z.coerce
      .number()
      .refine((n) => (PAGE_SIZES as readonly number[]).includes(n), 'one of 25, 50, 100, 200')
      .optional(),
  ),
});

/** The instances toolbar's "Apply now": the ticked rows (one `ids` field each) and a version. */
const ApplyNowForm = z.object({
  ids: z
    .union([z.uuid(), z.array(z.uuid()).max(200)])
    .optional()
    .transform((v) => (v === undefined ? [] : Array.isArray(v) ? v : [v])),
  targetImageTag: z.string().min(1, 'choose a version').max(300),
  reason: z.string().trim().max(500).optional(),
});

/** Console: the instances list (full page, or the table alone for htmx) and detail. */
export function instanceRoutes() {
  const app = new Hono<AppEnv>();

  const list = async (c: Context<AppEnv>, q: z.infer<typeof InstancesQuery>) => {
    const { db, config } = c.get('deps');
    // htmx filter/sort/page requests want the table alone; boosted form posts want the page.
    const fragment = Boolean(c.req.header('HX-Request') && !c.req.header('HX-Boosted'));
    const order = q.order ?? (q.sort === 'created' ? 'desc' : 'asc');
    const filter = {
      q: q.q,
      status: q.status ? [q.status] : undefined,
      region: q.region,
      imageTag: q.imageTag,
    };
    const [page, total, facets, catalog] = await Promise.all([
      listInstances(db, { ...filter, sort: q.sort, order, cursor: q.cursor, limit: q.limit ?? 50 }),
      countInstances(db, filter),
      fragment ? null : instanceFacets(db),
      fragment ? [] : listCatalog(db),
    ]);
    const props = {
      rows: page.items,
      total,
      next: page.next,
      prev: page.prev,
      query: {
        q: q.q,
        status: q.status,
        region: q.region,
        imageTag: q.imageTag,
        sort: q.sort,
        order,
        limit: q.limit && q.limit !== 50 ? String(q.limit) : undefined,
      },
      facets: {
        regions: facets?.regions ?? [],
        imageTags: facets?.imageTags ?? [],
        statuses: INSTANCE_STATUSES,
      },
      zone: zoneOf(c),
      readAt: c.get('deps').clock.now(),
    };
    if (fragment) return c.html(<InstancesTable {...props} />);
    return c.render(
      <InstancesPage
        {...props}
        flyApp={config.fly.appName}
        availableTags={catalog.filter((i) => i.status === 'available').map((i) => i.imageTag)}
      />,
      {
        title: 'Instances',
        active: 'instances',
      },
    );
  };

  app.get('/', htmlValidator('query', InstancesQuery), (c) => list(c, c.req.valid('query')));

  // Every form here ends with POST-redirect-GET: back to the list, the outcome as a flash.
  const back = (c: Context<AppEnv>, message: FlashMessage) =>
    redirectWithFlash(c, '/admin/instances', message);
  const failed = (c: Context<AppEnv>, err: unknown) => {
    if (err instanceof AppError && (err.status === 409 || err.status === 422))
      return back(c, { tone: 'error', text: err.message });
    throw err;
  };

  app.post('/provision', htmlValidator('form', ProvisionForm), async (c) => {
    const form = c.req.valid('form');
    try {
      const { instance } = await provisionInstance({
        ctx: ctxOf(c),
        input: { ...form, imageTag: form.imageTag || null },
      });
      return redirectWithFlash(c, `/admin/instances/${instance.id}`, {
        tone: 'ok',
        text: 'Provisioning started. Its progress is shown under Current action.',
      });
    } catch (err) {
      return failed(c, err);
    }
  });

  app.post(
    '/import',
    htmlValidator(
      'form',
      z.object({ appName: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/, 'a Fly app name') }),
    ),
    async (c) => {
      try {
        const r = await importFlyApp({ ctx: ctxOf(c), input: c.req.valid('form') });
        return back(c, {
          tone: 'ok',
          text: `Imported ${r.imported} of ${count(r.machines, 'machine')} (${r.skipped} already known or destroyed).`,
        });
      } catch (err) {
        if (err instanceof FlyApiError)
          return back(c, { tone: 'error', text: `Fly refused the import: ${err.message}` });
        return failed(c, err);
      }
    },
  );

  // A form result's address reloaded or bookmarked: the list, not a 400.
  app.get('/apply-now', (c) => c.redirect('/admin/instances', 303));

  // One stage, due now: the scheduler applies it at once and the action page follows it.
  app.post('/apply-now', htmlValidator('form', ApplyNowForm), async (c) => {
    const form = c.req.valid('form');
    if (!form.ids.length)
      return back(c, {
        tone: 'error',
        text: 'Nothing was changed: tick at least one instance first.',
      });
    try {
      const { action } = await scheduleAction({
        ctx: ctxOf(c),
        input: {
          actionType: 'version_change',
          selection: { ids: form.ids },
          runAt: 'now',
          targetImageTag: form.targetImageTag,
          reason: form.reason || `Applied now from the instances list by ${c.get('admin')?.email}`,
        },
      });
      return redirectWithFlash(c, `/admin/scheduler/${action.id}`, {
        tone: 'ok',
        text: `Applying ${count(form.ids.length, 'instance')} now. Progress shows here as it runs.`,
      });
    } catch (err) {
      const ids = err instanceof AppError ? err.extra.conflictingInstanceIds : undefined;
      if (err instanceof AppError && Array.isArray(ids)) {
        const names = await instanceNames(c.get('deps').db, ids);
        const named =
          ids
            .slice(0, 10)
            .map((id) => names.get(id) ?? id)
            .join(', ') + (ids.length > 10 ? `, and ${ids.length - 10} more` : '');
        return back(c, {
          tone: 'error',
          text: `Nothing was changed: ${plural(ids.length, {
            one: '# instance already has a pending scheduled action',
            other: '# instances already have a pending scheduled action',
          })}: ${named}.`,
        });
      }
      return failed(c, err);
    }
  });

  return app;
}
