// Volumes and snapshots (docs: machines/api/volumes-resource, volumes/volume-states,
// volumes/snapshots). A volume lives on one host (region + zone) and serves one machine.
import { and, eq, inArray } from 'drizzle-orm';
import { Hono } from 'hono';
import { simFlyMachines, simFlySnapshots } from '../../../db/dev-schema/index.ts';
import { requireApp } from './apps.ts';
import type { SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import * as ids from './ids.ts';
import { invalid, jsonBody, precondition, volumeNotFound } from './respond.ts';
import { snapshotJson, volumeJson } from './serialize.ts';
import { createVolumeRow } from './volume-create.ts';
import {
  DELETED_STATES,
  listSnapshotRows,
  listVolumeRows,
  mutateVolume,
  requireVolume,
} from './volume-store.ts';

/** `…/volumes` create, list, get, delete, extend, and `…/{id}/snapshots` list and create. */
export function volumeRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  const base = '/v1/apps/:app/volumes';

  app.post(base, guard('create_volume', 'app'), async (c) => {
    const appName = c.req.param('app');
    await requireApp(ctx, appName);
    const row = await createVolumeRow(ctx, appName, await jsonBody(c));
    return c.json(volumeJson(ctx, row));
  });

  // Soft-deleted volumes are listed too, as fly-go's `GetAllVolumes` shows; the client
  // drops them unless asked (fly-go `GetVolumes`).
  app.get(base, guard('list_volumes', 'app'), async (c) => {
    const appName = c.req.param('app');
    await requireApp(ctx, appName);
    return c.json((await listVolumeRows(ctx, appName)).map((v) => volumeJson(ctx, v)));
  });

  app.get(`${base}/:id`, guard('get_volume'), async (c) =>
    c.json(volumeJson(ctx, await requireVolume(ctx, c.req.param('app'), c.req.param('id')))),
  );

  /** Soft delete: `scheduling_destroy`, then `pending_destroy` (docs: volume-states). */
  app.delete(`${base}/:id`, guard('delete_volume'), async (c) => {
    const row = await mutateVolume(ctx, c.req.param('app'), c.req.param('id'), (v) => {
      if (DELETED_STATES.has(v.state)) throw volumeNotFound();
      if (v.attachedMachineId)
        throw precondition(
          `volume ${v.id} is attached to machine ${v.attachedMachineId}; destroy the machine first`,
        );
      const t0 = ctx.nowMs();
      return {
        state: 'scheduling_destroy',
        steps: [{ at: t0 + ctx.timings.destroyMs, state: 'pending_destroy' }],
        deletedAt: new Date(t0),
      };
    });
    return c.json(volumeJson(ctx, row));
  });

  /**
   * Grow only. `needs_restart` when a started machine has the volume mounted: its
   * filesystem sees the new size after a restart (docs: "If needs_restart is true …").
   */
  app.put(`${base}/:id/extend`, guard('extend_volume'), async (c) => {
    const body = await jsonBody(c);
    const size = body.size_gb;
    const row = await mutateVolume(ctx, c.req.param('app'), c.req.param('id'), (v) => {
      if (DELETED_STATES.has(v.state)) throw volumeNotFound();
      if (typeof size !== 'number' || !Number.isInteger(size) || size <= v.sizeGb)
        throw invalid(`size_gb must be a whole number of GB larger than the current ${v.sizeGb}`);
      if (v.state !== 'created')
        throw precondition(`volume ${v.id} cannot be extended while ${v.state}`);
      return {
        state: 'extending',
        sizeGb: size,
        steps: [{ at: ctx.nowMs() + ctx.timings.extendMs, state: 'created' }],
      };
    });
    const running = row.attachedMachineId
      ? await ctx.db
          .select({ id: simFlyMachines.id })
          .from(simFlyMachines)
          .where(
            and(
              eq(simFlyMachines.id, row.attachedMachineId),
              inArray(simFlyMachines.state, ['started', 'starting', 'restarting']),
            ),
          )
      : [];
    return c.json({ volume: volumeJson(ctx, row), needs_restart: running.length > 0 });
  });

  app.get(`${base}/:id/snapshots`, guard('list_snapshots'), async (c) => {
    const volume = await requireVolume(ctx, c.req.param('app'), c.req.param('id'));
    return c.json((await listSnapshotRows(ctx, volume.id)).map(snapshotJson));
  });

  /**
   * On-demand snapshot, `running` until `snapshotMs` has passed, then `created`. The real
   * response body is undocumented (the docs show an internal one), so this answers the
   * VolumeSnapshot; retention comes from the volume's `snapshot_retention`.
   */
  app.post(`${base}/:id/snapshots`, guard('create_snapshot'), async (c) => {
    const volume = await requireVolume(ctx, c.req.param('app'), c.req.param('id'));
    if (DELETED_STATES.has(volume.state)) throw volumeNotFound();
    const t0 = ctx.nowMs();
    const [row] = await ctx.db
      .insert(simFlySnapshots)
      .values({
        id: ids.snapshotId(),
        volumeId: volume.id,
        status: 'running',
        // Bytes in use: a tenth of the volume is a plausible agent workspace.
        size: Math.round(volume.sizeGb * 1024 ** 3 * 0.1),
        volumeSize: volume.sizeGb,
        digest: ids.digest().slice('sha256:'.length),
        retentionDays: volume.snapshotRetention,
        readyAt: new Date(t0 + ctx.timings.snapshotMs),
        createdAt: new Date(t0),
      })
      .returning();
    return c.json(row ? snapshotJson(row) : {});
  });

  return app;
}
