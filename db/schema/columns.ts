import { integer, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * `timestamptz(3)`: millisecond precision, the precision of a JS `Date`, so a timestamp
 * read into the app and written back (e.g. in a keyset cursor) compares equal.
 */
export const tstz = () => timestamp({ withTimezone: true, precision: 3 });

/**
 * The columns of a unit of work that is claimed before it is acted on (see
 * the work-unit engine, `src/lib/work/`): who holds it (`claim_token`, a fresh random UUID
 * per claim), since when, and how many times it was claimed. Every claimable table spreads
 * these, so the engine's claim and sweep speak one vocabulary (graphile-worker's `locked_by` /
 * `locked_at` / `attempts`).
 */
export const claimColumns = () => ({
  claimToken: uuid(),
  claimedAt: tstz(),
  attempts: integer().notNull().default(0),
});

/**
 * Until when the holder of a claim may act (null: nobody holds it). Only for units whose
 * claim commits before their side effect and outlives the claiming transaction; the sweep
 * returns units whose lease passed (their holder died or stalled).
 */
export const leaseColumn = () => ({ leaseUntil: tstz() });
