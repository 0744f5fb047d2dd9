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
  'bad-request': {
    title: 'Bad request',
    description:
      'The request could not be understood (e.g. a body that is not JSON where JSON is expected); the detail says what.',
  },
  'http-error': {
    title: 'Request failed',
    description:
      'An HTTP-level refusal without a more specific type (e.g. 405 or 415); the status and detail say which.',
  },
  'admin-exists': {
    title: 'Admin exists',
    description: 'An admin with this email already exists.',
  },
  'cannot-disable-self': {
    title: 'Cannot disable yourself',
    description: 'An admin cannot disable their own account; another admin must.',
  },
  'label-required': {
    title: 'Label required',
    description: 'An API token needs a label, so the list says what each token is for.',
  },
  'weak-password': {
    title: 'Weak password',
    description:
      'The new password is too short (the detail gives the minimum), or the same as the current one.',
  },
  'wrong-password': {
    title: 'Wrong password',
    description:
      'The current password given does not match; repeated failures are throttled (`too-many-requests`).',
  },
  'already-on-target': {
    title: 'Already on that version',
    description: 'The instance already runs the requested image: nothing to change.',
  },
  'already-scheduled': {
    title: 'Already scheduled',
    description:
      'Some instances already have a pending or running scheduled target (`conflictingInstanceIds`); schedule with `skipAlreadyScheduled` to leave them out.',
  },
  'cli-run-live': {
    title: 'A CLI run is live',
    description:
      'The instance has a CLI run in progress (`liveRunId` where you may see it); one run at a time. Cancel it first, or wait for it to end.',
  },
  'image-disabled': {
    title: 'Image disabled',
    description:
      'The image is disabled in the catalog and cannot be rolled out; choose an available one.',
  },
  'image-exists': {
    title: 'Image exists',
    description: 'The catalog already has an image with this tag.',
  },
  'instance-busy': {
    title: 'Instance busy',
    description:
      'Another job holds the instance (an action, a recovery, a CLI run or a deprovision; `holder` names it): see docs/seams.md for who wins. Retry when it ends, or cancel it first.',
  },
  'instance-destroyed': {
    title: 'Instance destroyed',
    description:
      'The instance is being deprovisioned or is gone; nothing more can be done with it.',
  },
  'instance-not-running': {
    title: 'Instance not running',
    description:
      'The instance is not running (stopped, recovering, provisioning …), so its controller cannot take the request.',
  },
  'invalid-schedule': {
    title: 'Invalid schedule',
    description:
      'The cron expression or time zone cannot be used; the detail names the field and why (docs/cron.md).',
  },
  'name-taken': {
    title: 'Name taken',
    description: 'An instance with this name already exists.',
  },
  'no-failed-targets': {
    title: 'No failed targets',
    description: 'The action has no failed targets to retry.',
  },
  'no-latest-image': {
    title: 'No latest image',
    description:
      'The catalog has no image marked latest for this variant; mark one, or name the image.',
  },
  'no-machine': {
    title: 'No machine',
    description:
      'The instance has no Fly machine yet (still provisioning, or its creation failed).',
  },
  'no-retained-volume': {
    title: 'No retained volume',
    description: 'The recovery kept no old volume (or it is already deleted).',
  },
  'not-ended': {
    title: 'Action not ended',
    description: 'Failed targets are retried only once the action has ended.',
  },
  'not-failed': {
    title: 'Recovery not failed',
    description: 'Only a failed recovery can be retried.',
  },
  'not-pausable': {
    title: 'Not pausable',
    description: 'Only a scheduled or running action can be paused.',
  },
  'not-recoverable': {
    title: 'Not recoverable',
    description:
      'The instance cannot be recovered in its current state (e.g. destroyed); the detail names the state.',
  },
  'not-resumable': {
    title: 'Not resumable',
    description: 'Only a paused or halted action can be resumed.',
  },
  'not-running': {
    title: 'Not running',
    description: 'The action needs a running instance (e.g. a stop or restart of a stopped one).',
  },
  'not-stopped': {
    title: 'Not stopped',
    description: 'Only a stopped instance can be started.',
  },
  'nothing-eligible': {
    title: 'Nothing eligible',
    description:
      'No selected instance can take this action (each was left out for a reason the preview lists).',
  },
  'ownership-mismatch': {
    title: 'Ownership mismatch',
    description:
      'The volume is not the one this recovery kept for this instance, so it is not deleted.',
  },
  'reason-required': {
    title: 'Reason required',
    description: 'A scheduled action needs a reason: users and the audit log are told why.',
  },
  'run-at-too-soon': {
    title: 'Run time too soon',
    description: '`runAt` must be at least 60 seconds ahead; use `now` to start at once.',
  },
  'selection-too-large': {
    title: 'Selection too large',
    description: 'The selection names more instances than one action may target; narrow it.',
  },
  'target-not-pending': {
    title: 'Target not pending',
    description: 'Only a pending target can be cancelled; this one has started or ended.',
  },
  'target-required': {
    title: 'Target image required',
    description: 'A version change needs `targetImageTag`.',
  },
  'unknown-image': {
    title: 'Unknown image',
    description: 'The image tag is not in the catalog.',
  },
  'precondition-failed': {
    title: 'Precondition failed',
    description:
      'The resource changed since the version named in `If-Match` (its `ETag` when you read it); nothing was changed. Read it again, then decide (RFC 9110 §13.1.1).',
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
