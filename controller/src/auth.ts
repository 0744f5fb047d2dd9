// The bearer token check (docs/controller-openapi.yaml, "Authentication"): the caller's
// token against FLEETWARDEN_CONTROLLER_TOKEN, in constant time. Both sides are hashed first
// so timingSafeEqual always compares two 32-byte digests: it throws on unequal lengths, and
// comparing raw strings would leak the expected token's length.
import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * A checker for `Authorization` header values: true only for `Bearer <token>` with exactly
 * `expected` as the token (the scheme is case-insensitive, RFC 9110 §11.1).
 */
export function bearerChecker(expected: string): (header: string | undefined) => boolean {
  const want = digest(expected);
  return (header) => {
    const given = /^Bearer +(\S+) *$/i.exec(header ?? '')?.[1];
    // A missing token is still hashed and compared, so every answer takes the same path.
    return timingSafeEqual(digest(given ?? ''), want) && given !== undefined;
  };
}
