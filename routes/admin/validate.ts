import { zValidator } from '@hono/zod-validator';
import { type ZodType, z } from 'zod';
import { AppError } from '../../src/lib/errors.ts';
import { isStorableText, NOT_STORABLE_TEXT } from '../../src/lib/text.ts';

/**
 * Every console field as submitted (query, path or form: a string, repeated strings or a
 * file) must be text the database can store, whatever the route's own schema says, so a
 * NUL byte is a 400 naming the field rather than a PostgreSQL error.
 */
const StorableFields = z.unknown().superRefine((fields, ctx) => {
  if (typeof fields !== 'object' || fields === null) return;
  for (const [name, value] of Object.entries(fields))
    for (const item of [value].flat())
      if (typeof item === 'string' && !isStorableText(item))
        ctx.addIssue({ code: 'custom', path: [name], message: NOT_STORABLE_TEXT });
});

/**
 * `zValidator` for console routes: a failed parse throws a 400 that the error handler
 * renders as a page (or an htmx flash) naming the bad fields.
 */
export function htmlValidator<T extends ZodType, Target extends 'query' | 'param' | 'form'>(
  target: Target,
  schema: T,
) {
  return zValidator(target, StorableFields.pipe(schema), (result) => {
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
