import { sql } from 'drizzle-orm';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { workUnits } from '../lib/work/index.ts';
import { stageDoorbell } from './model.ts';

const t = scheduledActionTargets;

/**
 * Scheduled targets as units of work (src/lib/work). A target is claimed, re-checked and
 * given its operation in one transaction (`claim-chunk.ts`), so it has no lease: a crash
 * rolls the claim back, and from then on the operation owns it. Its doorbell is its stage's:
 * the sweep rings, once per stage, live stages (action scheduled or running) with free slots
 * and a pending target due more than 30 s ago — their doorbell was lost, or the
 * deployment-wide cap held them back while another action's operations finished. (A
 * target's `next_attempt_at` starts at its stage's time and only moves later, so a due
 * target means a due stage.)
 */
export const targetUnits = workUnits({
  name: 'scheduled-actions',
  table: t,
  status: t.status,
  live: ['pending'],
  dueAt: t.nextAttemptAt,
  graceMs: 30_000,
  ringPer: t.stageId,
  ringWhen: sql`exists (
    select 1 from ${scheduledActionStages} s join ${scheduledActions} a on a.id = s.action_id
    where s.id = ${t.stageId} and a.status in ('scheduled', 'running')
      and s.status in ('pending', 'running') and s.running < a.max_in_flight)`,
  doorbells: (targets, purpose, now) =>
    targets.map((target) =>
      stageDoorbell({ id: target.stageId, scheduledAt: target.nextAttemptAt }, purpose, now),
    ),
});
