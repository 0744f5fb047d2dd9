// Machine leases (docs: machines-resource, "Machine leases"; envelope and 201 from the docs'
// example responses; 409 text as observed on the live API).
import { and, eq, gt, lte } from 'drizzle-orm';
import { Hono } from 'hono';
import { simFlyLeases } from '../../../db/dev-schema/index.ts';
import { sha256Hex } from '../../lib/crypto.ts';
import type { SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import { leaseNonce } from './ids.ts';
import { invalid, isoSeconds, jsonBody, opt, SimError } from './respond.ts';
import { requireMachine } from './store.ts';

export const NONCE_HEADER = 'fly-machine-lease-nonce';

type LeaseRow = typeof simFlyLeases.$inferSelect;

const envelope = (l: LeaseRow) => ({
  status: 'success',
  data: {
    nonce: l.nonce,
    expires_at: Math.floor(l.expiresAt.getTime() / 1000),
    owner: l.owner,
    description: l.description,
    version: l.version,
  },
});

function heldBy(machineId: string, lease: LeaseRow) {
  return new SimError(
    409,
    `aborted: machine ID ${machineId} lease currently held by ${lease.owner}, expires at ${isoSeconds(lease.expiresAt)}`,
  );
}

/** The unexpired lease on a machine, if any. */
async function activeLease(ctx: SimContext, machineId: string): Promise<LeaseRow | null> {
  const [row] = await ctx.db
    .select()
    .from(simFlyLeases)
    .where(and(eq(simFlyLeases.machineId, machineId), gt(simFlyLeases.expiresAt, ctx.now())));
  return row ?? null;
}

/**
 * Mutating calls on a leased machine need the lease's nonce (docs: machines-resource,
 * "Update a Machine"); without it: 409 with the holder, as the live API answers.
 */
export async function assertLeaseAllows(
  ctx: SimContext,
  machineId: string,
  nonce: string | undefined,
) {
  const lease = await activeLease(ctx, machineId);
  if (lease && lease.nonce !== nonce) throw heldBy(machineId, lease);
}

/** Owner as Fly shows token owners (`<uuid>@tokens.fly.io`), derived from the bearer token. */
export async function ownerOf(authorization: string | undefined): Promise<string> {
  const h = await sha256Hex(authorization ?? '');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}@tokens.fly.io`;
}

/** Creates a lease for `ttl` seconds (real time: lease TTLs are not scaled), or null if held. */
export async function createLease(
  ctx: SimContext,
  machine: { id: string; instanceId: string },
  ttl: number,
  owner: string,
  description = '',
): Promise<LeaseRow | null> {
  const values = {
    machineId: machine.id,
    nonce: leaseNonce(),
    owner,
    description,
    version: machine.instanceId,
    expiresAt: new Date(ctx.nowMs() + ttl * 1000),
  };
  // Replaces only an expired lease, so two racing acquires cannot both win.
  const [row] = await ctx.db
    .insert(simFlyLeases)
    .values(values)
    .onConflictDoUpdate({
      target: simFlyLeases.machineId,
      set: values,
      setWhere: lte(simFlyLeases.expiresAt, ctx.now()),
    })
    .returning();
  return row ?? null;
}

/** `POST|GET|DELETE /v1/apps/{app}/machines/{id}/lease`. */
export function leaseRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  const base = '/v1/apps/:app/machines/:id/lease';

  app.post(base, guard('acquire_lease'), async (c) => {
    const machine = await requireMachine(ctx, c.req.param('app'), c.req.param('id'));
    const body = await jsonBody(c, true);
    const ttl = Number(opt(body.ttl) ?? c.req.query('ttl'));
    if (!Number.isInteger(ttl) || ttl <= 0)
      throw invalid('ttl must be a positive number of seconds');
    const description = typeof body.description === 'string' ? body.description : '';
    const nonce = c.req.header(NONCE_HEADER);
    if (nonce) {
      // Refresh: same nonce, later expiry (docs: "Existing lease nonce to refresh by ttl").
      const [row] = await ctx.db
        .update(simFlyLeases)
        .set({ expiresAt: new Date(ctx.nowMs() + ttl * 1000) })
        .where(
          and(
            eq(simFlyLeases.machineId, machine.id),
            eq(simFlyLeases.nonce, nonce),
            gt(simFlyLeases.expiresAt, ctx.now()),
          ),
        )
        .returning();
      if (row) return c.json(envelope(row), 201);
    }
    const row = await createLease(
      ctx,
      machine,
      ttl,
      await ownerOf(c.req.header('authorization')),
      description,
    );
    if (row) return c.json(envelope(row), 201);
    const held = await activeLease(ctx, machine.id);
    throw held ? heldBy(machine.id, held) : invalid('lease could not be acquired, try again');
  });

  app.get(base, guard('get_lease'), async (c) => {
    const machine = await requireMachine(ctx, c.req.param('app'), c.req.param('id'));
    const lease = await activeLease(ctx, machine.id);
    if (!lease) throw new SimError(404, 'not_found: lease not found');
    return c.json(envelope(lease));
  });

  app.delete(base, guard('release_lease'), async (c) => {
    const machine = await requireMachine(ctx, c.req.param('app'), c.req.param('id'));
    const nonce = c.req.header(NONCE_HEADER);
    if (!nonce) throw invalid('fly-machine-lease-nonce header is required');
    const lease = await activeLease(ctx, machine.id);
    if (!lease) throw new SimError(404, 'not_found: lease not found');
    if (lease.nonce !== nonce) throw invalid('lease nonce does not match the current lease');
    await ctx.db
      .delete(simFlyLeases)
      .where(and(eq(simFlyLeases.machineId, machine.id), eq(simFlyLeases.nonce, nonce)));
    return c.json({ status: 'success', data: { ok: true } });
  });

  return app;
}
