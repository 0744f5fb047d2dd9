import { sign } from 'hono/jwt';
import { encodeBase64Url } from 'hono/utils/encode';
import { LOCAL_QSTASH } from '../../src/adapters/queue/local-credentials.ts';

/**
 * Signs a callback body the way QStash does, with knobs to break it: another key, a
 * different URL (`sub`), an expired or missing `exp`/`nbf`, a body hash for another body.
 */
export async function qstashSignature(input: {
  url: string;
  body: string;
  key?: string;
  iat?: number;
  /** null: leave the claim out. */
  exp?: number | null;
  nbf?: number | null;
  bodyForHash?: string;
}): Promise<string> {
  const iat = input.iat ?? Math.floor(Date.now() / 1000);
  const digest = await crypto.subtle.digest(
    'SHA-256',
    new TextEncoder().encode(input.bodyForHash ?? input.body),
  );
  return sign(
    {
      iss: 'Upstash',
      sub: input.url,
      iat,
      ...(input.nbf === null ? {} : { nbf: input.nbf ?? iat }),
      ...(input.exp === null ? {} : { exp: input.exp ?? iat + 300 }),
      jti: `jwt_${crypto.randomUUID()}`,
      body: encodeBase64Url(digest),
    },
    input.key ?? LOCAL_QSTASH.currentSigningKey,
    'HS256',
  );
}
