import { Hono } from 'hono';
import { z } from 'zod';
import { listAudit } from '../../src/audit/audit.ts';
import {
  countInstances,
  getInstance,
  INSTANCE_SORTS,
  INSTANCE_STATUSES,
  instanceFacets,
  listInstances,
} from '../../src/fleet/instances.ts';
import { InstancePage } from '../../views/pages/instance.tsx';
import { InstancesPage, InstancesTable } from '../../views/pages/instances.tsx';
import type { AppEnv } from '../env.ts';
import { htmlValidator } from './validate.ts';

const empty = (v: unknown) => (v === '' ? undefined : v);

export const InstancesQuery = z.object({
  q: z.preprocess(empty, z.string().trim().max(200).optional()),
  status: z.preprocess(empty, z.enum(INSTANCE_STATUSES).optional()),
  region: z.preprocess(empty, z.string().max(20).optional()),
  imageTag: z.preprocess(empty, z.string().max(200).optional()),
  sort: z.preprocess(empty, z.enum(INSTANCE_SORTS).default('created')),
  order: z.preprocess(empty, z.enum(['asc', 'desc']).optional()),
  cursor: z.preprocess(empty, z.string().max(1000).optional()),
});

/** Console: the instances list (full page, or the table alone for htmx) and detail. */
export function instanceRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', htmlValidator('query', InstancesQuery), async (c) => {
    const { db } = c.get('deps');
    const q = c.req.valid('query');
    const order = q.order ?? (q.sort === 'created' ? 'desc' : 'asc');
    const filter = {
      q: q.q,
      status: q.status ? [q.status] : undefined,
      region: q.region,
      imageTag: q.imageTag,
    };
    const [page, total, facets] = await Promise.all([
      listInstances(db, { ...filter, sort: q.sort, order, cursor: q.cursor }),
      countInstances(db, filter),
      c.req.header('HX-Request') ? null : instanceFacets(db),
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
      },
      facets: {
        regions: facets?.regions ?? [],
        imageTags: facets?.imageTags ?? [],
        statuses: INSTANCE_STATUSES,
      },
      zone: c.get('timeZone') ?? 'UTC',
    };
    if (c.req.header('HX-Request')) return c.html(<InstancesTable {...props} />);
    return c.render(<InstancesPage {...props} />, { title: 'Instances', active: 'instances' });
  });

  app.get('/:id', htmlValidator('param', z.object({ id: z.uuid() })), async (c) => {
    const { db } = c.get('deps');
    const { id } = c.req.valid('param');
    const instance = await getInstance(db, id);
    const audit = await listAudit(db, { subjectType: 'instance', subjectId: id, limit: 20 });
    return c.render(
      <InstancePage instance={instance} audit={audit.items} zone={c.get('timeZone') ?? 'UTC'} />,
      {
        title: instance.name,
        active: 'instances',
      },
    );
  });

  return app;
}
