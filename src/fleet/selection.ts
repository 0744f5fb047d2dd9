import { and, eq, inArray, isNotNull, isNull, type SQL, sql } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { type InstanceStatus, instances, versionPins } from '../../db/schema/index.ts';
import { UnprocessableError } from '../lib/errors.ts';
import { findImage } from './catalog.ts';

/** Which instances a request names: by id, or by what they are. */
export type SelectionFilter = {
  status?: string[];
  region?: string;
  /** Current image tag. */
  imageTag?: string;
  /** Instances whose image was published before this catalog image's (older versions). */
  versionBelow?: string;
  hasPin?: boolean;
};

export type Selection = { ids: string[] } | { filter: SelectionFilter };

/** An instance a selection names, with what another feature needs to judge it. */
export type SelectedInstance = {
  instanceId: string;
  userId: string;
  imageTag: string | null;
  status: string;
  /** The image the instance is pinned to, if any. */
  pinnedImageTag: string | null;
};

/**
 * The instances a selection names (the fleet's verb for features that act on many
 * instances, such as the scheduler): at most `limit`, `more` saying whether others match
 * beyond it. Ids that name no instance come back in `notFound`.
 *
 * Errors: 422 `unknown-image` when `versionBelow` is not in the image catalog.
 */
export async function selectInstances(
  db: Db,
  selection: Selection,
  limit: number,
): Promise<{ instances: SelectedInstance[]; more: boolean; notFound: string[] }> {
  const where: (SQL | undefined)[] = [];
  let requested: string[] = [];
  if ('ids' in selection) {
    requested = [...new Set(selection.ids)];
    where.push(inArray(instances.id, requested));
  } else {
    const f = selection.filter;
    if (f.status?.length) where.push(inArray(instances.status, f.status as InstanceStatus[]));
    if (f.region) where.push(eq(instances.region, f.region));
    if (f.imageTag) where.push(eq(instances.imageTag, f.imageTag));
    if (f.hasPin !== undefined)
      where.push(f.hasPin ? isNotNull(versionPins.instanceId) : isNull(versionPins.instanceId));
    if (f.versionBelow) {
      const below = await findImage(db, f.versionBelow);
      if (!below)
        throw new UnprocessableError(
          `versionBelow: ${f.versionBelow} is not in the catalog.`,
          {},
          'unknown-image',
        );
      where.push(
        sql`${instances.imageTag} in (select image_tag from image_catalog where published_at < ${below.publishedAt.toISOString()}::timestamptz)`,
      );
    }
  }
  const rows = await db
    .select({
      instanceId: instances.id,
      userId: instances.userId,
      imageTag: instances.imageTag,
      status: instances.status,
      pinnedImageTag: versionPins.imageTag,
    })
    .from(instances)
    .leftJoin(versionPins, eq(versionPins.instanceId, instances.id))
    .where(and(...where))
    .limit(limit + 1);
  const found = new Set(rows.map((r) => r.instanceId));
  return {
    instances: rows.slice(0, limit),
    more: rows.length > limit,
    notFound: requested.filter((id) => !found.has(id)),
  };
}
