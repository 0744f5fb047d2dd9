import { and, asc, desc, eq, gt, inArray, isNotNull, isNull, lt, type SQL } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { recoveries } from '../../db/schema/index.ts';
import { instanceIdsMatching, instanceNames } from '../fleet/recovery-moves.ts';
import { decodeCursor, keysetPage, type Page } from '../lib/cursor.ts';
import type { Recovery, RecoveryCause, RecoveryStatus, RecoveryStep } from './model.ts';

export type RecoveryFilter = {
  status?: RecoveryStatus[];
  cause?: RecoveryCause[];
  instanceId?: string;
  /** Substring of the instance's name or owner. */
  q?: string;
  cursor?: string;
  limit?: number;
};

export type RecoveryListItem = Recovery & { instanceName: string | null };

/** Newest first (creation order), keyset-paginated on `seq`. */
export async function listRecoveries(
  db: Db,
  filter: RecoveryFilter,
): Promise<Page<RecoveryListItem>> {
  const limit = Math.min(Math.max(filter.limit ?? 50, 1), 200);
  const cursor = filter.cursor ? decodeCursor(filter.cursor, 'integer') : null;
  const where: (SQL | undefined)[] = [];
  if (filter.status?.length) where.push(inArray(recoveries.status, filter.status));
  if (filter.cause?.length) where.push(inArray(recoveries.cause, filter.cause));
  if (filter.instanceId) where.push(eq(recoveries.instanceId, filter.instanceId));
  if (filter.q?.trim()) {
    const ids = await instanceIdsMatching(db, filter.q.trim());
    if (!ids.length) return { items: [], next: null, prev: null };
    where.push(inArray(recoveries.instanceId, ids));
  }
  const backwards = cursor?.dir === 'before';
  if (cursor) {
    const key = Number(cursor.key);
    where.push(backwards ? gt(recoveries.seq, key) : lt(recoveries.seq, key));
  }
  const rows = await db
    .select()
    .from(recoveries)
    .where(and(...where))
    .orderBy(backwards ? asc(recoveries.seq) : desc(recoveries.seq))
    .limit(limit + 1);
  const page = keysetPage(rows, limit, cursor, (r) => r.seq);
  const names = await instanceNames(
    db,
    page.items.map((r) => r.instanceId),
  );
  return {
    ...page,
    items: page.items.map((r) => ({ ...r, instanceName: names.get(r.instanceId) ?? null })),
  };
}

/** Old volumes kept after a recovery and not deleted yet, soonest deadline first. */
export async function retainedVolumes(db: Db, limit = 100): Promise<RecoveryListItem[]> {
  const rows = await db
    .select()
    .from(recoveries)
    .where(and(isNotNull(recoveries.retainedVolumeId), isNull(recoveries.oldVolumeDeletedAt)))
    .orderBy(asc(recoveries.retainUntil))
    .limit(limit);
  const names = await instanceNames(
    db,
    rows.map((r) => r.instanceId),
  );
  return rows.map((r) => ({ ...r, instanceName: names.get(r.instanceId) ?? null }));
}

/** One step of a recovery as it happened: when it was entered and how long it lasted (ms). */
export type StepSpan = {
  step: RecoveryStep;
  at: Date;
  durationMs: number | null;
  note: string | null;
};

/**
 * The steps from the history, each with its duration (until the next step was entered;
 * the last one runs until the recovery ended, or is still running: null).
 */
export function stepSpans(r: Recovery): StepSpan[] {
  return r.history.map((h, i) => {
    const at = new Date(h.at);
    const next = r.history[i + 1];
    const until = next
      ? new Date(next.at)
      : r.endedAt && h.step !== 'succeeded' && h.step !== 'failed'
        ? r.endedAt
        : null;
    return {
      step: h.step,
      at,
      durationMs: until ? until.getTime() - at.getTime() : null,
      note: h.note ?? null,
    };
  });
}

/**
 * What the instance page's recovery card shows: the active recovery, else the newest, with
 * its steps, and the retained old volume not yet deleted, if any.
 */
export async function recoveryCardData(db: Db, instanceId: string) {
  const [latest] = await db
    .select()
    .from(recoveries)
    .where(eq(recoveries.instanceId, instanceId))
    .orderBy(desc(recoveries.seq))
    .limit(1);
  const [retained] = await db
    .select()
    .from(recoveries)
    .where(
      and(
        eq(recoveries.instanceId, instanceId),
        isNotNull(recoveries.retainedVolumeId),
        isNull(recoveries.oldVolumeDeletedAt),
      ),
    )
    .orderBy(desc(recoveries.seq))
    .limit(1);
  return {
    recovery: latest ?? null,
    steps: latest ? stepSpans(latest) : [],
    retained: retained?.retainedVolumeId
      ? { volumeId: retained.retainedVolumeId, retainUntil: retained.retainUntil }
      : null,
  };
}
