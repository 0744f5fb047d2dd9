import { timingSafeEqual } from 'hono/utils/buffer';
import { decodeBase64, encodeBase64 } from 'hono/utils/encode';
import { randomBytes } from '../lib/crypto.ts';

/**
 * PBKDF2-HMAC-SHA-256 via WebCrypto (available on every runtime we target).
 * 600,000 iterations is OWASP's 2023 figure for PBKDF2-HMAC-SHA256
 * (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html);
 * about 110 ms on one core of our reference machine, paid once per sign-in.
 */
export const DEFAULT_PBKDF2_ITERATIONS = 600_000;

const SALT_BYTES = 16;
const HASH_BITS = 256;
const encoder = new TextEncoder();

async function derive(password: string, salt: Uint8Array<ArrayBuffer>, iterations: number) {
  const key = await crypto.subtle.importKey('raw', encoder.encode(password), 'PBKDF2', false, [
    'deriveBits',
  ]);
  return new Uint8Array(
    await crypto.subtle.deriveBits(
      { name: 'PBKDF2', hash: 'SHA-256', salt, iterations },
      key,
      HASH_BITS,
    ),
  );
}

/** Returns `pbkdf2-sha256$<iterations>$<salt base64>$<hash base64>` with a fresh 16-byte salt. */
export async function hashPassword(
  password: string,
  iterations = DEFAULT_PBKDF2_ITERATIONS,
): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const hash = await derive(password, salt, iterations);
  return `pbkdf2-sha256$${iterations}$${encodeBase64(salt.buffer)}$${encodeBase64(hash.buffer)}`;
}

/**
 * Checks a password against a stored hash in constant time. `needsRehash` is true when the
 * stored iteration count is below `iterations`, so sign-in can upgrade old hashes.
 * A malformed stored value verifies as false.
 */
export async function verifyPassword(
  password: string,
  stored: string,
  iterations = DEFAULT_PBKDF2_ITERATIONS,
): Promise<{ ok: boolean; needsRehash: boolean }> {
  const [scheme, iterText, saltText, hashText] = stored.split('$');
  const storedIterations = Number(iterText);
  if (scheme !== 'pbkdf2-sha256' || !saltText || !hashText || !Number.isInteger(storedIterations))
    return { ok: false, needsRehash: false };
  const actual = await derive(password, decodeBase64(saltText), storedIterations);
  const ok = await timingSafeEqual(hashText, encodeBase64(actual.buffer));
  return { ok, needsRehash: storedIterations < iterations };
}

const dummyHashes = new Map<number, Promise<string>>();

/**
 * A hash of a random password. Checking an unknown email against it costs what a real
 * check costs, so response time does not reveal which emails are admins.
 */
export function timingDummyHash(iterations = DEFAULT_PBKDF2_ITERATIONS): Promise<string> {
  let hash = dummyHashes.get(iterations);
  if (!hash) {
    hash = hashPassword(encodeBase64(randomBytes(12).buffer), iterations);
    dummyHashes.set(iterations, hash);
  }
  return hash;
}
