import { listAudit } from '../audit/audit.ts';
import type { Deps } from '../deps.ts';
import { findImage, latestImage, listCatalog } from './catalog.ts';
import { listInstanceEvents } from './events.ts';
import { getInstance, type InstanceDetail } from './instances.ts';
import { type LiveMachine, liveMachine } from './live.ts';
import {
  activeOperation,
  BUSY_STATUSES,
  type Operation,
  recentOperations,
} from './operations/model.ts';

export type InstanceOverview = {
  instance: InstanceDetail;
  /** The action in progress, else the last one. */
  operation: Operation | null;
  live: LiveMachine | null;
};

/**
 * One instance with its current (or last) action and, unless `live` is false, what Fly
 * reports about its machine, volume and snapshots right now. 404 for an unknown id.
 */
export async function instanceOverview(
  deps: Deps,
  id: string,
  options: { live?: boolean } = {},
): Promise<InstanceOverview> {
  const instance = await getInstance(deps.db, id);
  const [operation, live] = await Promise.all([
    activeOperation(deps.db, id).then(
      async (active) => active ?? (await recentOperations(deps.db, id, 1))[0] ?? null,
    ),
    options.live === false ? Promise.resolve(null) : liveMachine(deps, instance),
  ]);
  return { instance, operation, live };
}

/** Everything the console's instance page shows, read in parallel. */
export async function instancePageData(deps: Deps, id: string) {
  const overview = await instanceOverview(deps, id);
  const current = overview.instance.imageTag
    ? await findImage(deps.db, overview.instance.imageTag)
    : null;
  const [events, audit, catalog, latest] = await Promise.all([
    listInstanceEvents(deps.db, id, { limit: 30 }),
    listAudit(deps.db, { subjectType: 'instance', subjectId: id, limit: 20 }),
    listCatalog(deps.db),
    latestImage(deps.db, current?.variant ?? 'default'),
  ]);
  const active =
    overview.operation &&
    (overview.operation.status === 'pending' || overview.operation.status === 'running');
  return {
    ...overview,
    events,
    audit: audit.items,
    availableTags: catalog
      .filter((image) => image.status === 'available')
      .map((image) => image.imageTag),
    latestImageTag: latest?.imageTag ?? null,
    busy:
      Boolean(active) || (BUSY_STATUSES as readonly string[]).includes(overview.instance.status),
  };
}
