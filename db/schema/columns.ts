import { timestamp } from 'drizzle-orm/pg-core';

/**
 * `timestamptz(3)`: millisecond precision, the precision of a JS `Date`, so a timestamp
 * read into the app and written back (e.g. in a keyset cursor) compares equal.
 */
export const tstz = () => timestamp({ withTimezone: true, precision: 3 });
