import { createRoute, z } from '@hono/zod-openapi';
import { contactsOf } from '../../../src/fleet/users.ts';
import { NotFoundError } from '../../../src/lib/errors.ts';
import {
  EXPO_TOKEN,
  registerPushToken,
  removePushToken,
} from '../../../src/notices/push-tokens.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { commonProblems, notFoundProblem, Uuid } from '../schemas.ts';

const Body = z
  .strictObject({
    token: z
      .string()
      .regex(EXPO_TOKEN, 'an Expo push token, ExponentPushToken[…]')
      .openapi({ example: 'ExponentPushToken[xxxxxxxxxxxxxxxxxxxxxx]' }),
  })
  .openapi('PushToken');
const request = {
  params: z.object({ userId: Uuid }),
  body: { required: true, content: { 'application/json': { schema: Body } } },
};
const security = [{ platformKey: [] }];
const tags = ['platform'];

const routes = {
  put: createRoute({
    method: 'put',
    path: '/users/{userId}/push-tokens',
    tags,
    security,
    summary: "Register a device's Expo push token for a user (idempotent)",
    description:
      'With the platform key, a token registered to another user moves to this one (the device changed hands). With a user token, a token registered to another user is a 404 and stays where it is.',
    request,
    responses: {
      204: { description: 'Registered (or already was).' },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
  delete: createRoute({
    method: 'delete',
    path: '/users/{userId}/push-tokens',
    tags,
    security,
    summary: "Forget a device's push token (idempotent)",
    request,
    responses: {
      204: { description: 'Forgotten (or was not registered).' },
      ...commonProblems,
      ...notFoundProblem,
    },
  }),
};

export function pushTokenRoutes() {
  const app = apiApp();
  const requireUser = async (db: Parameters<typeof contactsOf>[0], userId: string) => {
    const user = (await contactsOf(db, [userId])).get(userId);
    if (!user || user.deletedAt) throw new NotFoundError('User', userId);
  };
  app.openapi(routes.put, async (c) => {
    const ctx = ctxOf(c);
    const { userId } = c.req.valid('param');
    await requireUser(ctx.db, userId);
    await registerPushToken({
      ctx,
      input: {
        userId,
        token: c.req.valid('json').token,
        // The platform key may move a device to another user; a user token may not.
        mayMove: c.get('platformUser')?.via !== 'token',
      },
    });
    return c.body(null, 204);
  });
  app.openapi(routes.delete, async (c) => {
    const ctx = ctxOf(c);
    const { userId } = c.req.valid('param');
    await requireUser(ctx.db, userId);
    await removePushToken({ ctx, input: { userId, token: c.req.valid('json').token } });
    return c.body(null, 204);
  });
  return app;
}
