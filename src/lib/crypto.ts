import { encodeBase64Url } from 'hono/utils/encode';

const encoder = new TextEncoder();

/** `n` bytes from the platform CSPRNG (WebCrypto `getRandomValues`). */
export function randomBytes(n: number): Uint8Array<ArrayBuffer> {
  return crypto.getRandomValues(new Uint8Array(n));
}

/** A URL-safe random string carrying `bytes` bytes of entropy (base64url, no padding). */
export function randomToken(bytes = 32): string {
  return encodeBase64Url(randomBytes(bytes).buffer);
}

const ALPHANUMERIC = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/**
 * `length` characters from [A-Za-z0-9], unbiased (rejection sampling). Used for API keys,
 * whose characters must survive copy-paste and double-click selection.
 */
export function randomAlphanumeric(length: number): string {
  let out = '';
  while (out.length < length) {
    for (const b of randomBytes(length * 2)) {
      // 248 = 62 * 4: bytes at or above it would bias the first characters.
      if (b < 248 && out.length < length) out += ALPHANUMERIC[b % 62];
    }
  }
  return out;
}

/** Lower-case hex SHA-256 of a UTF-8 string, or of bytes (WebCrypto). */
export async function sha256Hex(value: string | Uint8Array<ArrayBuffer>): Promise<string> {
  const bytes = typeof value === 'string' ? encoder.encode(value) : value;
  const digest = await crypto.subtle.digest('SHA-256', bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}
