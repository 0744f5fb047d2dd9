import { idempotencyKeys } from '../../db/schema/index.ts';
import { workUnits } from '../lib/work/index.ts';

/**
 * Idempotency keys as units of work (src/lib/work): a request claims its key with a lease
 * before the handler runs and writes the answer under that claim. Nothing rings them (no
 * doorbell, never due): a key whose holder died stays `in_progress` until its lease passes,
 * then the next request with it claims it again ({@link claimIdempotencyKey}).
 */
export const idempotencyUnits = workUnits({
  name: 'idempotency-keys',
  table: idempotencyKeys,
  status: idempotencyKeys.status,
  live: ['in_progress'],
  dueAt: idempotencyKeys.createdAt,
  graceMs: 0,
  doorbells: () => [],
});
