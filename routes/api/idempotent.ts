import type { createRoute } from '@hono/zod-openapi';
import { IDEMPOTENCY_HEADER, idempotency, REPLAYED_HEADER } from '../middleware/idempotency.ts';
import { problem } from './schemas.ts';

type Route = Parameters<typeof createRoute>[0];

/** The reusable header parameter (`#/components/parameters/IdempotencyKey`). */
export const IDEMPOTENCY_KEY_PARAMETER = {
  name: IDEMPOTENCY_HEADER,
  in: 'header' as const,
  required: false,
  description: `Optional. A key of your choosing (a UUID is best; 1–255 visible ASCII characters without \`"\` or \`\\\`, bare or quoted) that makes a retry of this request safe (draft-ietf-httpapi-idempotency-key-header). The first answer to a key is kept 24 h per credential (the API key, and the user a platform request acts for): the same key, method, path and body again get that answer, with \`${REPLAYED_HEADER}: true\`, and nothing runs twice. The same key with another body: 422 \`idempotency-key-reused\`; while its first request runs: 409 \`idempotency-key-in-use\`; another shape: 400 \`invalid-idempotency-key\`. A 5xx is not kept: retry with the same key. Without the header, every request runs.`,
  schema: { type: 'string' as const, minLength: 1, maxLength: 257 },
  example: '8e03978e-40d5-43e8-bc93-6894a57f9324',
};

const withDescription = (existing: unknown, description: string) => {
  const current = existing as { description?: string } | undefined;
  return current?.description
    ? { ...current, description: `${current.description} Or ${description}` }
    : problem(description);
};

/**
 * A creating route that takes `Idempotency-Key` (routes/middleware/idempotency.ts): the
 * middleware ahead of the route's validators, the header documented by reference, and the
 * key's 409 and 422 added to the route's own.
 */
export function idempotent<R extends Route>(route: R): R {
  const middleware = route.middleware
    ? Array.isArray(route.middleware)
      ? route.middleware
      : [route.middleware]
    : [];
  return {
    ...route,
    middleware: [idempotency(), ...middleware],
    parameters: [...(route.parameters ?? []), { $ref: '#/components/parameters/IdempotencyKey' }],
    responses: {
      ...route.responses,
      409: withDescription(
        route.responses[409],
        '`idempotency-key-in-use`: a request with this Idempotency-Key is still running (`Retry-After`).',
      ),
      422: withDescription(
        route.responses[422],
        '`idempotency-key-reused`: this Idempotency-Key was sent with another request.',
      ),
    },
  } as R;
}
