import type { Context } from 'hono';
import type { z } from 'zod';
import type { AppEnv } from '../env.ts';

/**
 * What a callback handler decided, mapped to QStash's delivery semantics
 * (upstash/docs `qstash/features/retry.mdx`):
 * - `done`: 200 after the transaction committed; QStash stops.
 * - `retry`: 503 with `Retry-After`; QStash tries again later.
 * - `drop`: 489 with `Upstash-NonRetryable-Error: true`; QStash stops and dead-letters it.
 */
export type CallbackOutcome =
  | { outcome: 'done'; result?: Record<string, unknown> }
  | { outcome: 'retry'; afterSeconds: number; reason: string }
  | { outcome: 'drop'; reason: string };

export function respond(c: Context<AppEnv>, outcome: CallbackOutcome): Response {
  switch (outcome.outcome) {
    case 'done':
      return c.json({ ok: true, ...outcome.result }, 200);
    case 'retry':
      c.header('Retry-After', String(Math.max(0, Math.ceil(outcome.afterSeconds))));
      return c.json({ ok: false, retry: true, reason: outcome.reason }, 503);
    case 'drop':
      c.header('Upstash-NonRetryable-Error', 'true');
      return c.json({ ok: false, reason: outcome.reason }, 489 as 400);
  }
}

/** The verified body parsed with `schema`; a body that cannot be valid is dropped (489), not retried. */
export function callbackBody<T extends z.ZodType>(
  c: Context<AppEnv>,
  schema: T,
): z.infer<T> | CallbackOutcome {
  const parsed = schema.safeParse(c.get('callback')?.body);
  if (!parsed.success)
    return {
      outcome: 'drop',
      reason: `invalid callback body: ${parsed.error.issues.map((i) => i.message).join('; ')}`,
    };
  return parsed.data;
}

export function isOutcome(value: unknown): value is CallbackOutcome {
  return typeof value === 'object' && value !== null && 'outcome' in value;
}
