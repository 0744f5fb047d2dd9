import { Hono } from 'hono';
import type { AppEnv } from './env.ts';

/**
 * Human-readable pages for the problem `type` URIs (`/problems/<code>`) our JSON errors
 * carry, as RFC 9457 §3.1.1 suggests.
 */
export const PROBLEM_TYPES: Record<string, { title: string; description: string }> = {
  'invalid-request': {
    title: 'Invalid request',
    description:
      'A parameter or body field failed validation. `errors[]` lists each field (`path`) and what is wrong (`message`).',
  },
  'invalid-utf8': {
    title: 'Invalid UTF-8',
    description: 'A JSON body must be UTF-8 (RFC 8259 §8.1); this one has bytes that are not.',
  },
  'invalid-cursor': {
    title: 'Invalid cursor',
    description:
      'The pagination cursor was altered, or made for another sort. Start again from the first page.',
  },
  'invalid-signature': {
    title: 'Invalid signature',
    description:
      'A callback without a valid Upstash-Signature for this exact URL and body. Only QStash may call /api/callbacks.',
  },
  unauthenticated: {
    title: 'Authentication required',
    description: 'Send a valid, unrevoked bearer token: `Authorization: Bearer <token>`.',
  },
  'user-required': {
    title: 'User required',
    description:
      'A /api/platform route acts for one user: send a user token (`POST /api/platform/users/{userId}/tokens`), or the platform key with a `Fleetwarden-User: <user id>` header.',
  },
  'invalid-user': {
    title: 'Invalid user',
    description:
      'The `Fleetwarden-User` header must be a user id (a UUID), and a user token acts for its own user only (leave the header out).',
  },
  'invalid-idempotency-key': {
    title: 'Invalid Idempotency-Key',
    description:
      'An `Idempotency-Key` must be 1 to 255 visible ASCII characters without `"` or `\\` (a UUID is best), bare or as a quoted string (draft-ietf-httpapi-idempotency-key-header).',
  },
  'idempotency-key-reused': {
    title: 'Idempotency-Key reused',
    description:
      'The `Idempotency-Key` was first sent with another request (method, path or body) by the same credential in the last 24 h. A key names one request: send a new key for a new request.',
  },
  'idempotency-key-in-use': {
    title: 'Idempotency-Key in use',
    description:
      'A request with this `Idempotency-Key` is still being processed. Retry after `Retry-After` seconds with the same key and body: once it is done, its answer is sent again with `Idempotent-Replayed: true`.',
  },
  'invalid-authorization-header': {
    title: 'Invalid Authorization header',
    description: 'The header must be `Bearer <token>`.',
  },
  'local-only': {
    title: 'Local clients only',
    description:
      "The local stand-ins under /__dev (embedded mode and tests) answer only clients on the same machine that address it by a loopback name or address and its port; in embedded mode, callbacks signed with the published local QStash keys are taken only from the app's own emulator when it listens beyond loopback, and only addressed to PUBLIC_URL otherwise.",
  },
  forbidden: {
    title: 'Forbidden',
    description: 'The request was refused, e.g. a cross-site form submission.',
  },
  'not-found': { title: 'Not found', description: 'The resource or route does not exist.' },
  conflict: {
    title: 'Conflict',
    description: 'The request conflicts with the current state; the detail says which.',
  },
  unprocessable: {
    title: 'Cannot process this request',
    description: 'The request is well-formed but cannot be acted on; the detail says why.',
  },
  'too-many-requests': {
    title: 'Too many requests',
    description: 'Slow down; retry after the number of seconds in `Retry-After`.',
  },
  'payload-too-large': {
    title: 'Payload too large',
    description:
      'The request body exceeds the limit for this group of endpoints (`limitBytes`): 1 MiB for JSON and callbacks, 16 KiB for the sign-in form, 1 MiB for other console forms.',
  },
  internal: {
    title: 'Internal error',
    description: 'An unexpected error on our side. It was logged with the `requestId`.',
  },
};

export function problemRoutes() {
  return new Hono<AppEnv>().get('/:code', (c) => {
    const entry = PROBLEM_TYPES[c.req.param('code')];
    if (!entry) return c.notFound();
    return c.html(
      <html lang="en">
        <head>
          <meta charset="utf-8" />
          <title>{`${entry.title} · fleetwarden problem types`}</title>
          <link rel="stylesheet" href={c.get('assets').urls.css} />
        </head>
        <body>
          <main class="login">
            <p class="muted">Problem type</p>
            <h1>{entry.title}</h1>
            <p>{entry.description}</p>
          </main>
        </body>
      </html>,
    );
  });
}
