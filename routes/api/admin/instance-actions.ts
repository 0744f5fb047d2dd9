import { createRoute, z } from '@hono/zod-openapi';
import { importFlyApp } from '../../../src/fleet/import.ts';
import { requestOperation } from '../../../src/fleet/operations/request.ts';
import { pinInstance, unpinInstance } from '../../../src/fleet/pins.ts';
import { provisionInstance } from '../../../src/fleet/provision.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { idempotent } from '../idempotent.ts';
import {
  commonProblems,
  notFoundProblem,
  Operation,
  operationJson,
  problem,
  Text,
  Timestamp,
  Uuid,
} from '../schemas.ts';

const conflict = {
  409: problem('The instance is busy, pinned, or in the wrong state for this action.'),
} as const;
const unprocessable = {
  422: problem('Unknown or disabled image, or the instance already runs it.'),
} as const;
const Accepted = z.object({ instanceId: Uuid, operation: Operation }).openapi('ActionAccepted');
const accepted = {
  202: {
    description: 'Accepted; follow `operation` on GET /instances/{id} until it is done.',
    content: { 'application/json': { schema: Accepted } },
  },
};
const Params = z.object({ id: Uuid });
const Override = z.strictObject({
  overridePin: z
    .boolean()
    .default(false)
    .openapi({ description: 'Replace a pin to another version with the new one.' }),
});

const actionResponses = {
  ...accepted,
  ...commonProblems,
  ...notFoundProblem,
  ...conflict,
  ...unprocessable,
};
const base = {
  method: 'post' as const,
  tags: ['instances'],
  security: [{ adminToken: [] }],
  responses: actionResponses,
};
const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
});

const VersionBody = Override.extend({
  imageTag: Text().min(1).max(300).openapi({ example: 'registry.fly.io/fleetwarden-agent:1.6.0' }),
});

const restart = idempotent(
  createRoute({
    ...base,
    path: '/instances/{id}/restart',
    summary: 'Restart: redeploy the current image',
    request: { params: Params },
  }),
);
const version = idempotent(
  createRoute({
    ...base,
    path: '/instances/{id}/version',
    summary: 'Change version to an available catalog image',
    request: { params: Params, body: jsonBody(VersionBody) },
  }),
);
const upgrade = idempotent(
  createRoute({
    ...base,
    path: '/instances/{id}/upgrade-to-latest',
    summary: 'Upgrade to the latest image of its variant now',
    request: { params: Params, body: jsonBody(Override) },
  }),
);
const stop = idempotent(
  createRoute({
    ...base,
    path: '/instances/{id}/stop',
    summary: 'Stop the machine',
    request: { params: Params },
  }),
);
const start = idempotent(
  createRoute({
    ...base,
    path: '/instances/{id}/start',
    summary: 'Start the machine',
    request: { params: Params },
  }),
);

const Provision = z
  .strictObject({
    userEmail: z.email(),
    displayName: Text().trim().max(100).optional(),
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9-]{2,62}$/, 'lower-case letters, digits and dashes, 3–63 long')
      .optional(),
    region: z
      .string()
      .regex(/^[a-z]{3}$/, 'a Fly region code such as ams')
      .openapi({ example: 'ams' }),
    imageTag: Text()
      .min(1)
      .max(300)
      .optional()
      .openapi({ description: 'Default: the latest image.' }),
  })
  .openapi('ProvisionRequest');

const Pin = z
  .strictObject({ imageTag: Text().min(1).max(300), reason: Text().max(300).optional() })
  .openapi('PinRequest');

/** Immediate actions, provisioning, import and pins on /api/admin. Each action answers 202. */
export function instanceActionRoutes() {
  const app = apiApp();
  const accept = (instanceId: string, op: Parameters<typeof operationJson>[0]) => ({
    instanceId,
    operation: operationJson(op),
  });

  app.openapi(restart, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(
      accept(
        id,
        await requestOperation({ ctx: ctxOf(c), input: { instanceId: id, kind: 'restart' } }),
      ),
      202,
    );
  });
  app.openapi(version, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const op = await requestOperation({
      ctx: ctxOf(c),
      input: {
        instanceId: id,
        kind: 'version_change',
        imageTag: body.imageTag,
        overridePin: body.overridePin,
      },
    });
    return c.json(accept(id, op), 202);
  });
  app.openapi(upgrade, async (c) => {
    const { id } = c.req.valid('param');
    const body = c.req.valid('json');
    const op = await requestOperation({
      ctx: ctxOf(c),
      input: { instanceId: id, kind: 'upgrade_to_latest', overridePin: body.overridePin },
    });
    return c.json(accept(id, op), 202);
  });
  app.openapi(stop, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(
      accept(
        id,
        await requestOperation({ ctx: ctxOf(c), input: { instanceId: id, kind: 'stop' } }),
      ),
      202,
    );
  });
  app.openapi(start, async (c) => {
    const { id } = c.req.valid('param');
    return c.json(
      accept(
        id,
        await requestOperation({ ctx: ctxOf(c), input: { instanceId: id, kind: 'start' } }),
      ),
      202,
    );
  });

  app.openapi(
    idempotent(
      createRoute({
        method: 'post',
        path: '/instances',
        tags: ['instances'],
        summary: 'Provision an instance: a volume, then a machine with it mounted',
        security: [{ adminToken: [] }],
        request: {
          body: { required: true, content: { 'application/json': { schema: Provision } } },
        },
        responses: {
          ...accepted,
          ...commonProblems,
          409: problem('The name is taken.'),
          ...unprocessable,
        },
      }),
    ),
    async (c) => {
      const { instance, operation } = await provisionInstance({
        ctx: ctxOf(c),
        input: c.req.valid('json'),
      });
      return c.json(accept(instance.id, operation), 202);
    },
  );

  app.openapi(
    createRoute({
      method: 'post',
      path: '/instances/import',
      tags: ['instances'],
      summary: "Adopt a Fly app's machines as instances",
      security: [{ adminToken: [] }],
      request: {
        body: {
          required: true,
          content: {
            'application/json': {
              schema: z.strictObject({ appName: z.string().regex(/^[a-z0-9][a-z0-9-]{1,62}$/) }),
            },
          },
        },
      },
      responses: {
        200: {
          description: 'What was adopted.',
          content: {
            'application/json': {
              schema: z.object({
                imported: z.number().int(),
                skipped: z.number().int(),
                machines: z.number().int(),
              }),
            },
          },
        },
        ...commonProblems,
        404: problem('Fly has no app of that name.'),
      },
    }),
    async (c) => c.json(await importFlyApp({ ctx: ctxOf(c), input: c.req.valid('json') }), 200),
  );

  app.openapi(
    createRoute({
      method: 'put',
      path: '/instances/{id}/pin',
      tags: ['instances'],
      summary: 'Pin the instance to an image version',
      security: [{ adminToken: [] }],
      request: {
        params: Params,
        body: { required: true, content: { 'application/json': { schema: Pin } } },
      },
      responses: {
        200: {
          description: 'The pin.',
          content: {
            'application/json': {
              schema: z.object({
                instanceId: Uuid,
                imageTag: z.string(),
                reason: z.string().nullable(),
                createdAt: Timestamp,
              }),
            },
          },
        },
        ...commonProblems,
        ...notFoundProblem,
        ...unprocessable,
      },
    }),
    async (c) => {
      const pin = await pinInstance({
        ctx: ctxOf(c),
        input: { instanceId: c.req.valid('param').id, ...c.req.valid('json') },
      });
      return c.json(
        {
          instanceId: pin.instanceId,
          imageTag: pin.imageTag,
          reason: pin.reason,
          createdAt: pin.createdAt.toISOString(),
        },
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: 'delete',
      path: '/instances/{id}/pin',
      tags: ['instances'],
      summary: 'Remove the pin (a no-op when there is none)',
      security: [{ adminToken: [] }],
      request: { params: Params },
      responses: { 204: { description: 'Unpinned.' }, ...commonProblems },
    }),
    async (c) => {
      await unpinInstance({ ctx: ctxOf(c), input: { instanceId: c.req.valid('param').id } });
      return c.body(null, 204);
    },
  );

  return app;
}
