import { zValidator } from '@hono/zod-validator';
import type { ZodType } from 'zod';
import { AppError } from '../../src/lib/errors.ts';

/**
 * `zValidator` for console routes: a failed parse throws a 400 that the error handler
 * renders as a page (or an htmx flash) naming the bad fields.
 */
export function htmlValidator<T extends ZodType, Target extends 'query' | 'param' | 'form'>(
  target: Target,
  schema: T,
) {
  return zValidator(target, schema, (result) => {
    if (!result.success) {
      const fields = result.error.issues
        .map((i) => `${i.path.join('.') || target}: ${i.message}`)
        .join('; ');
      throw new AppError(400, 'invalid-request', 'Invalid request', fields);
    }
  });
}

/** For optional query and form fields: an empty input counts as absent. */
export const emptyAsAbsent = (v: unknown) => (v === '' ? undefined : v);
