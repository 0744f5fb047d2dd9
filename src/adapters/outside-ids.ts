/**
 * Ids we put into another service's URL path (Fly Machines, the instance controller,
 * QStash). Each is checked against its known shape and then percent-encoded, so an id can
 * never add a path segment (`/`), climb one (`.`, `..`, `%2E%2E`: WHATWG URLs resolve dot
 * segments even when encoded) or carry a query or fragment. The official QStash SDK joins
 * path segments without encoding them (`[baseUrl, ...path].join('/')`, @upstash/qstash
 * 2.12), so for QStash the check is the only guard.
 */

/** An id that does not have the shape its service gives it; the call is not made. */
export class OutsideIdError extends Error {
  constructor(
    readonly what: string,
    readonly value: string,
  ) {
    super(`${what} has an unexpected shape: ${JSON.stringify(value.slice(0, 80))}`);
    this.name = 'OutsideIdError';
  }
}

/**
 * A generic path segment: starts with a letter or digit, then letters, digits, `_`, `-`,
 * `.`, `~` (RFC 3986 unreserved), at most 200 characters. Fly machine ids (14 hex), volume
 * ids (`vol_…`), snapshot ids and the controller's run and session ids all fit.
 */
export const SAFE_SEGMENT = /^[A-Za-z0-9][A-Za-z0-9_.~-]{0,199}$/;

/**
 * A Fly app name: lower-case letters, digits and `-` (Fly's own rule), also used as the
 * host label of `<app>.fly.dev`, so it may never carry `.`, `/`, `@` or `:`.
 */
export const FLY_APP_NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * A QStash DLQ id. The API reference types it only as a string; the documented example is
 * `1725323658779-0` (Unix ms, `-`, a sequence). The embedded emulator appends
 * `-<4 letters or digits>`.
 */
export const QSTASH_DLQ_ID = /^\d{1,20}-\d{1,20}(?:-[A-Za-z0-9]{1,32})?$/;

/** A QStash message id: `msg_` and letters or digits (QStash's and the emulator's). */
export const QSTASH_MESSAGE_ID = /^msg_[A-Za-z0-9]{1,200}$/;

/**
 * `value` when it matches `shape`, percent-encoded for one path segment.
 * @throws OutsideIdError when it does not (nothing is sent).
 */
export function pathSegment(value: string, what: string, shape: RegExp = SAFE_SEGMENT): string {
  if (!shape.test(value)) throw new OutsideIdError(what, value);
  return encodeURIComponent(value);
}

// biome-ignore lint/suspicious/noExplicitAny: any function of the client, whatever it takes
type AsyncMethods = Record<string, (...args: any[]) => Promise<unknown>>;

/**
 * The same client, with every method turning a synchronous throw (a malformed id found while
 * its path is built) into a rejected promise, as callers that chain `.catch()` expect.
 */
export function rejectingOnBadIds<T extends AsyncMethods>(client: T): T {
  const out: AsyncMethods = {};
  for (const [name, method] of Object.entries(client)) {
    out[name] = async (...args) => method(...args);
  }
  return out as T;
}
