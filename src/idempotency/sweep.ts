import type { Sweeper } from '../lib/work/index.ts';
import { deleteExpiredIdempotencyKeys } from './keys.ts';

/**
 * The keys' part of the every-minute sweep: keys past their 24 h are deleted (`found`
 * counts them). Nothing is rung: a key is not work that waits for a doorbell.
 */
export const idempotencySweeper: Sweeper = {
  name: 'idempotency-keys',
  sweep: async (deps, now) => ({
    found: await deleteExpiredIdempotencyKeys(deps, now),
    rerung: 0,
    leasesReturned: 0,
  }),
};
