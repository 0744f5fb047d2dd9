import { asc, eq, inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { instances, users } from '../../db/schema/index.ts';
import type { ScheduleInput } from '../scheduler/schedule.ts';
import { classify, loadCandidates } from '../scheduler/selection.ts';

export type EligibleInstance = {
  id: string;
  name: string;
  region: string;
  imageTag: string | null;
  userEmail: string;
};

/**
 * One page of the instances a schedule request would target (eligible by the scheduler's
 * own rules: `loadCandidates` and `classify`), by name. Read-only: it is what the
 * confirmation step lists so an admin sees who, not only how many.
 */
export async function eligibleInstances(
  db: Db,
  input: Pick<ScheduleInput, 'selection' | 'actionType' | 'targetImageTag' | 'overridePins'>,
  page: { offset: number; limit: number },
): Promise<{ total: number; items: EligibleInstance[] }> {
  const { candidates } = await loadCandidates(db, input.selection);
  const { eligible } = classify(candidates, {
    actionType: input.actionType,
    targetImageTag: input.targetImageTag ?? null,
    overridePins: input.overridePins ?? false,
  });
  if (!eligible.length) return { total: 0, items: [] };
  // Ordered by name, so pages are stable however the candidates came back.
  const rows = await db
    .select({
      id: instances.id,
      name: instances.name,
      region: instances.region,
      imageTag: instances.imageTag,
      userEmail: users.email,
    })
    .from(instances)
    .innerJoin(users, eq(users.id, instances.userId))
    .where(
      inArray(
        instances.id,
        eligible.map((c) => c.instanceId),
      ),
    )
    .orderBy(asc(instances.name), asc(instances.id))
    .offset(page.offset)
    .limit(page.limit);
  return { total: eligible.length, items: rows };
}
