/**
 * The PostgreSQL SQLSTATE of an error, looking through wrappers (drizzle wraps driver
 * errors in `DrizzleQueryError` with the original as `cause`). Null when there is none.
 * Codes: https://www.postgresql.org/docs/current/errcodes-appendix.html
 */
export function pgErrorCode(err: unknown): string | null {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return null;
}

/** 23505 unique_violation: a unique (or partial unique) index refused the row. */
export const isUniqueViolation = (err: unknown) => pgErrorCode(err) === '23505';
