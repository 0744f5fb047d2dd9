import { createRoute, z } from '@hono/zod-openapi';
import { listInstances } from '../../../src/fleet/instances.ts';
import { requirePlatformCaller } from '../../middleware/platform-caller.ts';
import { requireUtf8Json } from '../../middleware/utf8-json.ts';
import { agentRoutes } from '../agents/routes.ts';
import { apiApp } from '../app.ts';
import { platformCliRunRoutes } from '../cli-runs.ts';
import { platformDeprovisionRoutes } from '../deprovision.ts';
import {
  Cursor,
  commonProblems,
  InstanceStatus,
  Limit,
  pageOf,
  Timestamp,
  Uuid,
} from '../schemas.ts';
import { instanceStatusRoute } from './instance-status.ts';
import { pushTokenRoutes } from './push-tokens.ts';
import { platformScopes } from './scope.ts';
import { userTokenRoutes } from './user-tokens.ts';

const UserInstance = z
  .object({
    id: Uuid,
    name: z.string(),
    status: InstanceStatus,
    region: z.string(),
    imageTag: z.string().nullable(),
    createdAt: Timestamp,
  })
  .openapi('UserInstance');

const route = createRoute({
  method: 'get',
  path: '/users/{userId}/instances',
  tags: ['platform'],
  summary: "A user's instances, for the product's apps",
  security: [{ platformKey: [] }],
  request: {
    params: z.object({ userId: Uuid }),
    query: z.object({ cursor: Cursor, limit: Limit }),
  },
  responses: {
    200: {
      description:
        "The user's instances, newest first, a page at a time (empty for an unknown user): follow `nextCursor` until it is null.",
      content: { 'application/json': { schema: pageOf(UserInstance, 'UserInstancePage') } },
    },
    ...commonProblems,
  },
});

/** /api/platform: the product's own apps, authenticated by platform API keys. */
export function platformApi() {
  const app = apiApp();
  app.use('*', requirePlatformCaller(), requireUtf8Json());
  // Tenancy: who the request acts for, and that what it names is theirs (scope.ts).
  for (const [path, check] of platformScopes()) app.use(path, check);
  app.route('/', userTokenRoutes());
  app.route('/', instanceStatusRoute());
  app.route('/', pushTokenRoutes());
  app.openapi(route, async (c) => {
    const { cursor, limit } = c.req.valid('query');
    const page = await listInstances(c.get('deps').db, {
      userId: c.req.valid('param').userId,
      sort: 'created',
      limit,
      ...(cursor ? { cursor } : {}),
    });
    return c.json(
      {
        items: page.items.map((i) => ({
          id: i.id,
          name: i.name,
          status: i.status,
          region: i.region,
          imageTag: i.imageTag,
          createdAt: i.createdAt.toISOString(),
        })),
        nextCursor: page.next,
        prevCursor: page.prev,
      },
      200,
    );
  });
  app.route('/', platformDeprovisionRoutes());
  app.route('/', platformCliRunRoutes());
  app.route('/', agentRoutes('platform'));
  return app;
}
