import { createRoute, z } from '@hono/zod-openapi';
import { addImage, listCatalog } from '../../../src/fleet/catalog.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { commonProblems, problem, Text, Timestamp } from '../schemas.ts';

const Image = z
  .object({
    imageTag: z.string().openapi({ example: 'registry.fly.io/fleetwarden-agent:1.6.0' }),
    versionLabel: z.string(),
    variant: z.string(),
    status: z.enum(['available', 'disabled']),
    isLatest: z.boolean(),
    publishedAt: Timestamp,
  })
  .openapi('CatalogImage');

type Row = Awaited<ReturnType<typeof listCatalog>>[number];
const json = (r: Row) => ({ ...r, publishedAt: r.publishedAt.toISOString() });

const list = createRoute({
  method: 'get',
  path: '/images',
  tags: ['images'],
  summary: 'The image catalog',
  security: [{ adminToken: [] }],
  responses: {
    200: {
      description: 'Every image.',
      content: { 'application/json': { schema: z.object({ items: z.array(Image) }) } },
    },
    ...commonProblems,
  },
});

const add = createRoute({
  method: 'post',
  path: '/images',
  tags: ['images'],
  summary: 'Add an image version (e.g. from a release pipeline)',
  security: [{ adminToken: [] }],
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.strictObject({
            imageTag: Text()
              .min(3)
              .max(300)
              .regex(/^[^\s]+:[^\s:]+$/, 'registry/repository:tag'),
            versionLabel: Text().min(1).max(50),
            variant: Text().min(1).max(50).default('default'),
            latest: z
              .boolean()
              .default(false)
              .openapi({ description: 'Make it the latest of its variant.' }),
          }),
        },
      },
    },
  },
  responses: {
    201: { description: 'Added.', content: { 'application/json': { schema: Image } } },
    ...commonProblems,
    409: problem('The tag is already in the catalog.'),
  },
});

export function imageRoutes() {
  return apiApp()
    .openapi(list, async (c) =>
      c.json({ items: (await listCatalog(c.get('deps').db)).map(json) }, 200),
    )
    .openapi(add, async (c) =>
      c.json(json(await addImage({ ctx: ctxOf(c), input: c.req.valid('json') })), 201),
    );
}
