import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';

/**
 * An API error answered as Fly does: `{"error":"<code>: <text>"}`, sometimes with a
 * `status` (`insufficient_capacity`). Texts follow observed Fly bodies where one is known
 * (docs/notes: /work/notes/fly.md §5); the rest keep the same gRPC-style prefixes.
 */
export class SimError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly error: string,
    readonly extra: { status?: string } = {},
    readonly headers: Record<string, string> = {},
  ) {
    super(error);
    this.name = 'SimError';
  }
}

export const machineNotFound = () => new SimError(404, 'not_found: machine not found');
export const volumeNotFound = () => new SimError(404, 'not_found: volume not found');
export const appNotFound = () => new SimError(404, 'app not found');
export const invalid = (text: string) => new SimError(400, `invalid_argument: ${text}`);
export const precondition = (text: string) => new SimError(412, `failed_precondition: ${text}`);

/** Capacity shortfall (fly-go flaps_error.go; docs: machines-resource "Create a Machine"). */
export const noCapacity = (what: 'machine' | 'volume', region: string) =>
  new SimError(412, `insufficient resources to create new ${what} in region '${region}'`, {
    status: 'insufficient_capacity',
  });

/** The body and status of a SimError (also used by the fault middleware). */
export function errorResponse(c: Context, error: SimError): Response {
  for (const [k, v] of Object.entries(error.headers)) c.header(k, v);
  return c.json({ error: error.error, ...error.extra }, error.status);
}

/** A JSON request body, or 400 as Go's decoder words it when it is not an object. */
export async function jsonBody(c: Context, optional = false): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (!text.trim()) {
    if (optional) return {};
    throw invalid('request body is required');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new SimError(400, 'json: invalid character in request body');
  }
  if (!value || typeof value !== 'object' || Array.isArray(value))
    throw new SimError(400, 'json: cannot unmarshal non-object into Go value of type main.request');
  return value as Record<string, unknown>;
}

/** RFC 3339 without milliseconds, as machine timestamps are (`2023-10-31T02:30:10Z`). */
export const isoSeconds = (at: Date | number) =>
  new Date(at).toISOString().replace(/\.\d{3}Z$/, 'Z');

/** Go's JSON has no `undefined` and sends `null` for unset pointers: treat both as absent. */
export function opt<T>(value: T | null | undefined): T | undefined {
  return value === null ? undefined : value;
}
