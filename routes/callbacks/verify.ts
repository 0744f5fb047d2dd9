import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from '../env.ts';
import { problemResponse } from '../problem.tsx';

/**
 * Every QStash callback passes here first: the raw body is read once, the
 * `Upstash-Signature` JWT is verified against it and against the exact public URL of this
 * callback (current key, then next key, small clock tolerance), its `iat`/`nbf`/`exp` must
 * be present and within QStash's 5-minute lifetime, and only then is the body parsed.
 * Missing, forged, expired, everlasting, re-targeted or altered: 401, nothing runs.
 * Source: upstash/docs `qstash/howto/receiving.mdx`.
 */
export function verifyQStashSignature(): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const deps = c.get('deps');
    const raw = await c.req.text();
    const signature = c.req.header('upstash-signature');
    const url = `${deps.config.publicUrl}${c.req.path}${new URL(c.req.url).search}`;
    if (!signature || !(await deps.signatures.verify({ signature, body: raw, url }))) {
      deps.log.warn('callback.signature_rejected', {
        path: c.req.path,
        hasSignature: Boolean(signature),
      });
      return problemResponse(c, {
        status: 401,
        code: 'invalid-signature',
        title: 'Invalid signature',
        detail: 'The Upstash-Signature header is missing or does not match this body and URL.',
      });
    }
    let body: unknown = null;
    try {
      body = raw ? JSON.parse(raw) : {};
    } catch {
      body = null;
    }
    c.set('callback', {
      body,
      messageId: c.req.header('upstash-message-id') ?? null,
      retried: Number(c.req.header('upstash-retried') ?? 0),
    });
    await next();
  };
}
