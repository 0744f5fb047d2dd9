import { sign } from 'hono/jwt';
import { encodeBase64Url } from 'hono/utils/encode';
import { randomToken } from '../../lib/crypto.ts';

const keys = new Map<string, Promise<CryptoKey>>();

/** The HMAC key for a signing key, imported once (importing dominated the cost of signing). */
function hmacKey(signingKey: string): Promise<CryptoKey> {
  let key = keys.get(signingKey);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      new TextEncoder().encode(signingKey),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    keys.set(signingKey, key);
  }
  return key;
}

/**
 * The `Upstash-Signature` JWT QStash puts on every delivery (HS256 keyed by the current
 * signing key's UTF-8 bytes): `iss` "Upstash", `sub` the destination URL, `iat`/`nbf`
 * now, `exp` five minutes later, `jti` unique, `body` base64url SHA-256 of the raw body.
 * Times are the real wall clock, as the receiver checks them against its own.
 * Source: upstash/docs `qstash/howto/receiving.mdx`, `qstash/features/security.mdx`.
 */
export async function signDelivery(input: {
  url: string;
  body: Uint8Array<ArrayBuffer>;
  signingKey: string;
}): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  const digest = await crypto.subtle.digest('SHA-256', input.body);
  return sign(
    {
      iss: 'Upstash',
      sub: input.url,
      iat,
      nbf: iat,
      exp: iat + 300,
      jti: `jwt_${randomToken(16)}`,
      body: encodeBase64Url(digest),
    },
    await hmacKey(input.signingKey),
    'HS256',
  );
}
