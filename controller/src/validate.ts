// Request checks for the contract's bodies and headers (docs/controller-openapi.yaml),
// written out by hand to keep the controller free of dependencies. Lengths count code
// points, as JSON Schema's minLength/maxLength do.
import { HttpError } from './http.ts';

const bad = (message: string) => new HttpError(400, 'invalid_request', message);
const length = (s: string) => [...s].length;

function text(body: Record<string, unknown>, name: string, max: number): string {
  const v = body[name];
  if (typeof v !== 'string' || length(v) < 1 || length(v) > max)
    throw bad(`${name} must be a string of 1–${max} characters`);
  return v;
}

function exactly(value: unknown, names: string[]): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw bad('the body must be a JSON object');
  const extra = Object.keys(value).filter((k) => !names.includes(k));
  if (extra.length) throw bad(`unknown field ${extra.join(', ')}`);
  return value as Record<string, unknown>;
}

/** StartCliRunRequest: `{prompt}`. */
export function startCliRunBody(value: unknown): { prompt: string } {
  return { prompt: text(exactly(value, ['prompt']), 'prompt', 10_000) };
}

export const TRIGGERS = ['api', 'cron', 'manual'] as const;
export type Trigger = (typeof TRIGGERS)[number];

/** StartSessionRequest: `{agentId, prompt, trigger}`. */
export function startSessionBody(value: unknown): {
  agentId: string;
  prompt: string;
  trigger: Trigger;
} {
  const body = exactly(value, ['agentId', 'prompt', 'trigger']);
  const trigger = body.trigger;
  if (!TRIGGERS.includes(trigger as Trigger)) throw bad('trigger must be api, cron or manual');
  return {
    agentId: text(body, 'agentId', 128),
    prompt: text(body, 'prompt', 10_000),
    trigger: trigger as Trigger,
  };
}

/** `Idempotency-Key`: 1–255 characters; missing is null, or 400 when `required`. */
export function idempotencyKey(value: string | undefined, required: boolean): string | null {
  if (value === undefined && !required) return null;
  if (!value || length(value) > 255)
    throw bad(`Idempotency-Key ${required ? 'is required' : 'must be'} (1–255 characters)`);
  return value;
}

/** The `after` query parameter: a byte offset, 0 when absent. */
export function afterOffset(value: string | null): number {
  if (value === null) return 0;
  if (!/^\d{1,15}$/.test(value)) throw bad('after must be a byte offset');
  return Number(value);
}
