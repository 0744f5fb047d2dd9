import { createRoute, z } from '@hono/zod-openapi';
import { countInstances, INSTANCE_SORTS, listInstances } from '../../../src/fleet/instances.ts';
import { instanceOverview } from '../../../src/fleet/overview.ts';
import { activeRecovery } from '../../../src/recovery/model.ts';
import { upcomingForInstance } from '../../../src/scheduler/queries.ts';
import { apiApp } from '../app.ts';
import {
  Cursor,
  commonProblems,
  InstanceStatus,
  InstanceSummary,
  instanceSummaryJson,
  Limit,
  notFoundProblem,
  pageOf,
  Text,
  Uuid,
} from '../schemas.ts';
import { InstanceDetail, instanceDetailJson } from './instance-json.ts';

const ListQuery = z.object({
  q: Text()
    .trim()
    .max(200)
    .optional()
    .openapi({ description: 'Substring of name, machine id, app, owner email or name.' }),
  status: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (!v) return undefined;
      const parsed = z.array(InstanceStatus).safeParse(v.split(','));
      if (!parsed.success) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown status; use ${InstanceStatus.options.join(', ')}`,
        });
        return z.NEVER;
      }
      return parsed.data;
    })
    .openapi({ description: 'Comma-separated statuses, e.g. `running,stopped`.', type: 'string' }),
  region: Text().max(20).optional(),
  imageTag: Text().max(200).optional(),
  hasPin: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true')),
  sort: z.enum(INSTANCE_SORTS).default('created'),
  order: z
    .enum(['asc', 'desc'])
    .optional()
    .openapi({ description: 'Default: desc for created, asc otherwise.' }),
  cursor: Cursor,
  limit: Limit,
});

const InstancePage = pageOf(InstanceSummary, 'InstancePage').extend({
  total: z.number().int().openapi({ description: 'Instances matching the filters.' }),
});

const list = createRoute({
  method: 'get',
  path: '/instances',
  tags: ['instances'],
  summary: 'List instances (filters, sort, keyset pagination)',
  security: [{ adminToken: [] }],
  request: { query: ListQuery },
  responses: {
    200: {
      description: 'A page of instances.',
      content: { 'application/json': { schema: InstancePage } },
    },
    ...commonProblems,
  },
});

const get = createRoute({
  method: 'get',
  path: '/instances/{id}',
  tags: ['instances'],
  summary: 'One instance',
  security: [{ adminToken: [] }],
  request: {
    params: z.object({ id: Uuid }),
    query: z.object({
      live: z
        .enum(['true', 'false'])
        .default('true')
        .openapi({ description: 'Read the machine from Fly (default true).' }),
    }),
  },
  responses: {
    200: {
      description: 'The instance with its current (or last) action and its live machine.',
      content: { 'application/json': { schema: InstanceDetail } },
    },
    ...commonProblems,
    ...notFoundProblem,
  },
});

export function instanceRoutes() {
  return apiApp()
    .openapi(list, async (c) => {
      const { db } = c.get('deps');
      const q = c.req.valid('query');
      const filter = {
        q: q.q,
        status: q.status,
        region: q.region,
        imageTag: q.imageTag,
        hasPin: q.hasPin,
      };
      const [page, total] = await Promise.all([
        listInstances(db, {
          ...filter,
          sort: q.sort,
          order: q.order,
          cursor: q.cursor,
          limit: q.limit,
        }),
        countInstances(db, filter),
      ]);
      return c.json(
        {
          items: page.items.map(instanceSummaryJson),
          nextCursor: page.next,
          prevCursor: page.prev,
          total,
        },
        200,
      );
    })
    .openapi(get, async (c) => {
      const deps = c.get('deps');
      const { id } = c.req.valid('param');
      const [overview, upcoming, recovery] = await Promise.all([
        instanceOverview(deps, id, { live: c.req.valid('query').live === 'true' }),
        upcomingForInstance(deps.db, id),
        activeRecovery(deps.db, id),
      ]);
      return c.json(instanceDetailJson(overview, upcoming, recovery), 200);
    });
}
