import { createRoute, z } from '@hono/zod-openapi';
import { mintUserToken, USER_TOKEN_TTL } from '../../../src/auth/user-tokens.ts';
import { revokeUserTokens } from '../../../src/fleet/users.ts';
import { ctxOf } from '../../env.ts';
import { apiApp } from '../app.ts';
import { commonProblems, notFoundProblem, problem, Timestamp, Uuid } from '../schemas.ts';

const MintBody = z
  .strictObject({
    ttlSeconds: z
      .number()
      .int()
      .min(USER_TOKEN_TTL.minSeconds)
      .max(USER_TOKEN_TTL.maxSeconds)
      .optional()
      .openapi({
        description: `How long the token is valid, in seconds (default ${USER_TOKEN_TTL.defaultSeconds}).`,
        example: 900,
      }),
  })
  .openapi('UserTokenRequest');

const UserToken = z
  .object({
    token: z.string().openapi({
      description:
        'Send as `Authorization: Bearer <token>` to any /api/platform route; it acts for this user only. Shown once; never stored.',
      example: 'fwu_eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.…',
    }),
    userId: Uuid,
    expiresAt: Timestamp,
  })
  .openapi('UserToken');

const tags = ['platform'];
const security = [{ platformKey: [] }];
const params = z.object({ userId: Uuid });
const forbidden = {
  403: problem('A user token cannot mint or revoke tokens: use the platform key.'),
};

const mint = createRoute({
  method: 'post',
  path: '/users/{userId}/tokens',
  tags,
  security,
  summary: 'Mint a short-lived user token (platform key only)',
  description:
    "A bearer token for one user, for the product's web and mobile apps to call the platform API directly (banner, status, CLI runs, push tokens): every route then acts for that user only and answers 404 for anything else. Signed (HMAC-SHA-256), valid for minutes; revoked at once by `POST /users/{userId}/tokens/revoke`, by revoking the platform key that minted it, or, for every user, by changing `USER_TOKEN_SECRET`.",
  request: {
    params,
    body: { required: false, content: { 'application/json': { schema: MintBody } } },
  },
  responses: {
    201: { description: 'The token.', content: { 'application/json': { schema: UserToken } } },
    ...commonProblems,
    ...forbidden,
    ...notFoundProblem,
  },
});

const revoke = createRoute({
  method: 'post',
  path: '/users/{userId}/tokens/revoke',
  tags,
  security,
  summary: 'Revoke every token of a user (platform key only; audited)',
  request: { params },
  responses: {
    204: { description: "Revoked: the user's earlier tokens answer 401 from now on." },
    ...commonProblems,
    ...forbidden,
    ...notFoundProblem,
  },
});

/** `POST /users/{userId}/tokens` and `…/tokens/revoke` (scope.ts keeps user tokens out). */
export function userTokenRoutes() {
  return apiApp()
    .openapi(mint, async (c) => {
      const deps = c.get('deps');
      const apiKey = c.get('apiKey');
      if (!apiKey) throw new Error('platform route without a key');
      const { userId } = c.req.valid('param');
      // The body is optional: without one the defaults apply.
      const body: { ttlSeconds?: number } = c.req.valid('json') ?? {};
      const { token, expiresAt } = await mintUserToken(deps, {
        userId,
        apiKey,
        ttlSeconds: body.ttlSeconds ?? USER_TOKEN_TTL.defaultSeconds,
      });
      deps.log.info('platform.user_token_minted', { userId, keyId: apiKey.id });
      return c.json({ token, userId, expiresAt: expiresAt.toISOString() }, 201);
    })
    .openapi(revoke, async (c) => {
      await revokeUserTokens({ ctx: ctxOf(c), input: { userId: c.req.valid('param').userId } });
      return c.body(null, 204);
    });
}
