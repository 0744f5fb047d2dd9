import { z } from '@hono/zod-openapi';
import { sha256Hex } from '../../src/lib/crypto.ts';

/**
 * Entity tags for optimistic concurrency (RFC 9110 §8.8.3, §13.1.1): a strong ETag is the
 * SHA-256 of a resource's JSON representation, so it changes whenever anything a client
 * can see changes; a PATCH with `If-Match` applies only while the resource still has it.
 */
export async function etagOf(representation: unknown): Promise<string> {
  return `"${(await sha256Hex(JSON.stringify(representation))).slice(0, 32)}"`;
}

/**
 * Whether an `If-Match` field value holds for a resource whose current ETag is `etag`:
 * `*` (it exists), or a listed tag equal to it by strong comparison (a weak `W/` tag never
 * matches, RFC 9110 §13.1.1).
 */
export function ifMatchHolds(field: string, etag: string): boolean {
  if (field.trim() === '*') return true;
  return field
    .split(',')
    .map((tag) => tag.trim())
    .some((tag) => !tag.startsWith('W/') && tag === etag);
}

/** The optional `If-Match` request header, as the document states it. */
export const IfMatch = z.object({
  'if-match': z.string().max(1000).optional().openapi({
    description:
      'The `ETag` of the version you read: the change applies only if the resource still has it (else 412 `precondition-failed`, nothing changed).',
    example: '"3b0c44298fc1c149afbf4c8996fb9242"',
  }),
});

/** The `ETag` response header, as the document states it. */
export const ETAG_HEADER = {
  ETag: {
    description: 'The version of the representation (RFC 9110 §8.8.3).',
    schema: { type: 'string' as const },
  },
};
