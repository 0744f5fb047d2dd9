import type { Context } from 'hono';

/** QStash's error body: `{"error": "..."}` (openapi `components.schemas.Error`). */
export function qstashError(c: Context, status: 400 | 401 | 404 | 412 | 500, error: string) {
  return c.json({ error }, status);
}

/** Repeated or comma-separated query values (`?dlqIds=a&dlqIds=b` or `?dlqIds=a,b`). */
export function queryList(c: Context, name: string): string[] {
  return (c.req.queries(name) ?? []).flatMap((v) => v.split(',')).filter(Boolean);
}

/** `count` clamped to 1–max (default 100). */
export function queryCount(c: Context, max = 100): number {
  const n = Number(c.req.query('count') ?? 100);
  return Number.isInteger(n) && n > 0 ? Math.min(n, max) : 100;
}

/**
 * The destination after `marker` in the raw request URL, with its own query string. The
 * SDK puts it in the path unencoded (`/v2/publish/https://host/path?x=1`); Hono's decoded
 * path would lose `%2F` and similar, so the raw URL is sliced.
 */
export function destinationAfter(c: Context, marker: string): string | null {
  const raw = c.req.url;
  const at = raw.indexOf(marker);
  if (at < 0) return null;
  const rest = raw.slice(at + marker.length);
  return rest.length ? rest : null;
}
