import jsep from 'jsep';
import { parseGoDurationMs } from './durations.ts';

/** QStash's default backoff before retry `n` (1-based): min(86400, e^(2.5·n)) seconds, in ms. */
export function defaultBackoffMs(retryNumber: number): number {
  return Math.min(86_400, Math.exp(2.5 * retryNumber)) * 1000;
}

const DAY_MS = 86_400_000;

/**
 * How long a failed response asks us to wait, in ms, from `Retry-After`,
 * `X-RateLimit-Reset`, `X-RateLimit-Reset-Requests` or `X-RateLimit-Reset-Tokens`:
 * seconds, an HTTP date or a Go duration. Null when absent, unparseable or over a day
 * (QStash then falls back to its default backoff). Source: upstash/docs
 * `qstash/features/retry.mdx`.
 */
export function retryAfterMs(headers: Headers, nowMs: number): number | null {
  for (const name of [
    'retry-after',
    'x-ratelimit-reset',
    'x-ratelimit-reset-requests',
    'x-ratelimit-reset-tokens',
  ]) {
    const value = headers.get(name)?.trim();
    if (!value) continue;
    let ms: number | null = null;
    if (/^\d+(\.\d+)?$/.test(value)) ms = Number(value) * 1000;
    else
      ms =
        parseGoDurationMs(value) ??
        (Number.isNaN(Date.parse(value)) ? null : Math.max(0, Date.parse(value) - nowMs));
    if (ms !== null) return ms <= DAY_MS ? ms : null;
  }
  return null;
}

const FUNCTIONS: Record<string, (...args: number[]) => number> = {
  pow: Math.pow,
  exp: Math.exp,
  sqrt: Math.sqrt,
  abs: Math.abs,
  floor: Math.floor,
  ceil: Math.ceil,
  round: Math.round,
  min: Math.min,
  max: Math.max,
};

function evaluate(node: jsep.Expression, retried: number): number {
  switch (node.type) {
    case 'Literal':
      return Number((node as jsep.Literal).value);
    case 'Identifier':
      if ((node as jsep.Identifier).name === 'retried') return retried;
      throw new Error(`unknown variable ${(node as jsep.Identifier).name}`);
    case 'UnaryExpression': {
      const u = node as jsep.UnaryExpression;
      const v = evaluate(u.argument, retried);
      if (u.operator === '-') return -v;
      if (u.operator === '+') return v;
      throw new Error(`unsupported operator ${u.operator}`);
    }
    case 'BinaryExpression': {
      const b = node as jsep.BinaryExpression;
      const l = evaluate(b.left, retried);
      const r = evaluate(b.right, retried);
      if (b.operator === '+') return l + r;
      if (b.operator === '-') return l - r;
      if (b.operator === '*') return l * r;
      if (b.operator === '/') return l / r;
      throw new Error(`unsupported operator ${b.operator}`);
    }
    case 'CallExpression': {
      const call = node as jsep.CallExpression;
      const name = call.callee.type === 'Identifier' ? (call.callee as jsep.Identifier).name : '';
      const fn = FUNCTIONS[name];
      if (!fn) throw new Error(`unknown function ${name}`);
      return fn(...call.arguments.map((a) => evaluate(a, retried)));
    }
    default:
      throw new Error(`unsupported expression ${node.type}`);
  }
}

/**
 * Evaluates an `Upstash-Retry-Delay` expression (milliseconds), e.g.
 * `pow(2, retried) * 1000`, where `retried` is 0 before the first retry. Parsed with
 * jsep; only + - * /, numbers, `retried` and the documented functions are allowed.
 * Throws on anything else.
 */
export function retryDelayMs(expression: string, retried: number): number {
  const value = evaluate(jsep(expression), retried);
  if (!Number.isFinite(value) || value < 0)
    throw new Error('retry delay must be a non-negative number');
  return value;
}

/** Checks an expression at publish time so a bad one is a 400, not a failure later. */
export function isValidRetryDelay(expression: string): boolean {
  try {
    retryDelayMs(expression, 0);
    return true;
  } catch {
    return false;
  }
}
