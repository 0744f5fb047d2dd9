// Create, get, list and update machines (docs: machines/api/machines-resource).
import { and, eq, ne } from 'drizzle-orm';
import { Hono } from 'hono';
import {
  simFlyMachineEvents,
  simFlyMachines,
  simFlyMachineVersions,
  simFlyVolumes,
} from '../../../db/dev-schema/index.ts';
import type { MachineConfig } from '../../adapters/fly/types.ts';
import { requireApp } from './apps.ts';
import { currentTimings, type SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import * as ids from './ids.ts';
import { assertLeaseAllows, createLease, NONCE_HEADER, ownerOf } from './leases.ts';
import { hostDown, parseConfig, placeOnVolume, volumeOf } from './placement.ts';
import { invalid, jsonBody, noCapacity, opt, SimError } from './respond.ts';
import { machineJson } from './serialize.ts';
import { dueAt, planCreate, planUpdate } from './state.ts';
import {
  eventsFor,
  listMachineRows,
  type MachineRow,
  mutateMachine,
  requireMachine,
} from './store.ts';

/** Machines a plain listing leaves out (include_deleted shows them). */
const DELETED = new Set(['destroying', 'destroyed']);

async function respondWith(ctx: SimContext, row: MachineRow, nonce?: string) {
  const events = await eventsFor(ctx, [row.id]);
  return machineJson(ctx, row, events.get(row.id) ?? [], { nonce });
}

async function nameTaken(ctx: SimContext, app: string, name: string) {
  const [row] = await ctx.db
    .select({ id: simFlyMachines.id })
    .from(simFlyMachines)
    .where(
      and(
        eq(simFlyMachines.appName, app),
        eq(simFlyMachines.name, name),
        ne(simFlyMachines.state, 'destroyed'),
      ),
    );
  return row?.id ?? null;
}

/**
 * `POST /v1/apps/{app}/machines` (200 + Machine), `GET …/machines` (filters `region`,
 * `state`, `summary`, `include_deleted`, `metadata.<key>`), `GET …/{id}`, and `POST …/{id}`
 * (update: a new version and `instance_id`; the previous version becomes `replaced`).
 */
export function machineRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();

  app.post('/v1/apps/:app/machines', guard('create_machine', 'app'), async (c) => {
    const appName = c.req.param('app');
    await requireApp(ctx, appName);
    const body = await jsonBody(c);
    const config = parseConfig(body.config);
    const asked = opt(body.region);
    if (asked !== undefined && typeof asked !== 'string') throw invalid('region must be a string');
    const volume = await placeOnVolume(ctx, appName, config, asked);
    const region = volume?.region ?? asked ?? ctx.defaultRegion;
    if (ctx.faults.state.outOfCapacity.has(region)) throw noCapacity('machine', region);
    const given = typeof body.name === 'string' && body.name ? body.name : null;
    let name = given ?? ids.machineName();
    // A generated name is redrawn on a clash (Fly's are unique per app); a given one is refused.
    for (let tries = 0; !given && tries < 10 && (await nameTaken(ctx, appName, name)); tries++)
      name = ids.machineName();
    const clash = await nameTaken(ctx, appName, name);
    if (clash)
      throw new SimError(
        409,
        `already_exists: unique machine name violation, machine ID ${clash} already exists with name "${name}"`,
      );
    const t0 = ctx.nowMs();
    const plan = planCreate(body.skip_launch === true, t0, currentTimings(ctx));
    const id = ids.machineId();
    const instanceId = ids.ulid(t0);
    const row = await ctx.db.transaction(async (tx) => {
      const [inserted] = await tx
        .insert(simFlyMachines)
        .values({
          id,
          appName,
          name,
          region,
          zone: volume?.zone ?? ids.zone(),
          state: plan.state,
          instanceId,
          privateIp: ids.privateIp(),
          config,
          steps: plan.steps,
          dueAt: dueAt(plan.steps),
          createdAt: new Date(t0),
          updatedAt: new Date(t0),
        })
        .returning();
      await tx
        .insert(simFlyMachineVersions)
        .values({ instanceId, machineId: id, config, status: 'current', createdAt: new Date(t0) });
      await tx
        .insert(simFlyMachineEvents)
        .values({ id: ids.ulid(t0), machineId: id, ...plan.event, at: new Date(t0) });
      if (volume) {
        // Guarded: a concurrent create that mounted the same volume first wins.
        const attached = await tx
          .update(simFlyVolumes)
          .set({ attachedMachineId: id, revision: volume.revision + 1 })
          .where(and(eq(simFlyVolumes.id, volume.id), eq(simFlyVolumes.revision, volume.revision)))
          .returning({ id: simFlyVolumes.id });
        if (!attached.length)
          throw new SimError(
            412,
            `failed_precondition: volume ${volume.id} is in use by another machine`,
          );
      }
      return inserted as MachineRow;
    });
    const ttl = Number(opt(body.lease_ttl) ?? 0);
    const owner = await ownerOf(c.req.header('authorization'));
    const lease = ttl > 0 ? await createLease(ctx, row, ttl, owner) : null;
    return c.json(await respondWith(ctx, row, lease?.nonce));
  });

  app.get('/v1/apps/:app/machines', guard('list_machines', 'app'), async (c) => {
    const appName = c.req.param('app');
    await requireApp(ctx, appName);
    const q = new URL(c.req.url).searchParams;
    const metadata: Record<string, string> = {};
    for (const [k, v] of q)
      if (k.startsWith('metadata.')) metadata[k.slice('metadata.'.length)] = v;
    const states = new Set(
      q
        .getAll('state')
        .flatMap((s) => s.split(','))
        .filter(Boolean),
    );
    const rows = (
      await listMachineRows(ctx, appName, { region: q.get('region') ?? undefined, metadata })
    ).filter(
      (m) =>
        (q.get('include_deleted') === 'true' || !DELETED.has(m.state)) &&
        (!states.size || states.has(m.state)),
    );
    const summary = q.get('summary') === 'true';
    const events = summary
      ? new Map()
      : await eventsFor(
          ctx,
          rows.map((r) => r.id),
        );
    return c.json(rows.map((r) => machineJson(ctx, r, events.get(r.id) ?? [], { summary })));
  });

  app.get('/v1/apps/:app/machines/:id', guard('get_machine'), async (c) =>
    c.json(
      await respondWith(ctx, await requireMachine(ctx, c.req.param('app'), c.req.param('id'))),
    ),
  );

  app.post('/v1/apps/:app/machines/:id', guard('update_machine'), async (c) => {
    const body = await jsonBody(c);
    const config = parseConfig(body.config);
    const nonce = c.req.header(NONCE_HEADER);
    const row = await mutateMachine(ctx, c.req.param('app'), c.req.param('id'), async (m) => {
      await assertLeaseAllows(ctx, m.id, nonce);
      if (ctx.faults.hostUnreachable(m)) throw hostDown(m.id);
      const version = opt(body.current_version);
      if (version !== undefined && version !== m.instanceId)
        throw new SimError(409, 'aborted: machine update failed due to concurrent update');
      if (opt(body.region) !== undefined && body.region !== m.region)
        throw invalid('region cannot be changed');
      if (opt(body.name) !== undefined && body.name !== m.name)
        throw invalid('name cannot be changed');
      if (volumeOf(config) !== volumeOf(m.config as MachineConfig))
        throw invalid("a machine's volume cannot be changed by an update");
      if (ctx.faults.state.outOfCapacity.has(m.region)) throw noCapacity('machine', m.region);
      const t0 = ctx.nowMs();
      const failsPull = ctx.faults.state.imagePullFailures.has(config.image);
      const plan = planUpdate(
        m.state,
        body.skip_launch === true,
        t0,
        ctx.timings,
        failsPull ? m.instanceId : undefined,
      );
      return {
        state: plan.state,
        steps: plan.steps,
        instanceId: ids.ulid(t0),
        config,
        newVersion: true,
        events: [{ ...plan.event, at: t0 }],
      };
    });
    return c.json(await respondWith(ctx, row));
  });

  return app;
}
