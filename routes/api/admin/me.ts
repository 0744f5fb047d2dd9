import { createRoute, z } from '@hono/zod-openapi';
import { apiApp } from '../app.ts';
import { commonProblems, Timestamp, Uuid } from '../schemas.ts';

const Me = z
  .object({
    kind: z.literal('admin_token'),
    id: Uuid,
    label: z.string(),
    prefix: z.string().openapi({ description: 'First 12 characters of the token.' }),
    createdAt: Timestamp,
  })
  .openapi('AdminTokenIdentity');

const route = createRoute({
  method: 'get',
  path: '/me',
  tags: ['admin'],
  summary: 'The admin API token making this request',
  security: [{ adminToken: [] }],
  responses: {
    200: { description: 'The token identity.', content: { 'application/json': { schema: Me } } },
    ...commonProblems,
  },
});

export function meRoute() {
  return apiApp().openapi(route, (c) => {
    const key = c.get('apiKey');
    if (!key) throw new Error('bearer middleware did not run');
    return c.json(
      {
        kind: 'admin_token' as const,
        id: key.id,
        label: key.label,
        prefix: key.prefix,
        createdAt: key.createdAt.toISOString(),
      },
      200,
    );
  });
}
