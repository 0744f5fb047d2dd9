// Fault injection: the `/_faults` routes and the per-endpoint guard that applies rate
// limits, latency and injected errors. See faults-state.ts for the body and storage.
import { and, inArray, or, sql } from 'drizzle-orm';
import { Hono, type MiddlewareHandler } from 'hono';
import { simFlyMachines } from '../../../db/dev-schema/index.ts';
import { ruleFor } from '../../adapters/fly/rate-limit.ts';
import type { SimContext } from './context.ts';
import { type Endpoint, type ErrorFault, FaultsInput } from './faults-state.ts';
import { errorResponse, invalid, jsonBody, SimError } from './respond.ts';
import { mutateMachine } from './store.ts';

const PREFIX_BY_STATUS: Record<number, string> = {
  400: 'invalid_argument',
  404: 'not_found',
  408: 'deadline_exceeded',
  409: 'aborted',
  412: 'failed_precondition',
  500: 'internal',
  503: 'unavailable',
};

function injected(fault: ErrorFault): SimError {
  const prefix = PREFIX_BY_STATUS[fault.status];
  const text = fault.error ?? (prefix ? `${prefix}: injected fault` : 'injected fault');
  const headers: Record<string, string> = fault.status === 429 ? { 'Retry-After': '1' } : {};
  return new SimError(fault.status as SimError['status'], text, {}, headers);
}

/** Rate-limit scope: the machine or volume id when the path has one, else the app. */
export type EndpointGuard = (name: Endpoint, scopeParam?: 'id' | 'app') => MiddlewareHandler;

/**
 * Runs before an endpoint's handler: Fly's per-action limits when rate limiting is on (429
 * with `Retry-After` in whole seconds; the body is undocumented, so a plain `error` text),
 * then injected latency (× timeScale), then an injected `before` error. After the handler,
 * a successful answer may be swapped for an injected `after` error, or held back by an
 * `after` latency: the work was done but the caller cannot know (an ambiguous failure).
 */
export function createEndpointGuard(ctx: SimContext): EndpointGuard {
  return (name, scopeParam = 'id') =>
    async (c, next) => {
      const scope = c.req.param(scopeParam) ?? c.req.param('app') ?? '';
      if (ctx.faults.state.rateLimit) {
        const taken = ctx.buckets.tryTake(`${name}:${scope}`, ruleFor(name));
        if (!taken.ok) {
          const seconds = String(Math.max(1, Math.ceil(taken.retryAfterMs / 1000)));
          return errorResponse(
            c,
            new SimError(429, 'rate limit exceeded', {}, { 'Retry-After': seconds }),
          );
        }
      }
      const latency = ctx.faults.latencyFor(name);
      if (latency > 0) await ctx.sleep(ctx.scaled(latency));
      const before = ctx.faults.takeError(name, 'before', ctx.random);
      if (before) return errorResponse(c, injected(before));
      await next();
      if (!c.res.ok) return;
      const after = ctx.faults.takeError(name, 'after', ctx.random);
      if (after) c.res = errorResponse(c, injected(after));
      const held = ctx.faults.latencyFor(name, 'after');
      if (held > 0) await ctx.sleep(ctx.scaled(held));
    };
}

const UP = [
  'started',
  'starting',
  'restarting',
  'replacing',
  'updating',
  'stopping',
  'suspending',
] as const;

/**
 * Stops every running machine on the given hosts or regions: an unreachable host's
 * machines are down, and flyd cannot report how, so no event is recorded.
 */
async function downHosts(ctx: SimContext, zones: string[], regions: string[]) {
  if (!zones.length && !regions.length) return;
  const downed = await ctx.db
    .update(simFlyMachines)
    .set({
      state: 'stopped',
      steps: [],
      dueAt: null,
      updatedAt: ctx.now(),
      revision: sql`${simFlyMachines.revision} + 1`,
    })
    .where(
      and(
        inArray(simFlyMachines.state, [...UP]),
        or(
          zones.length ? inArray(simFlyMachines.zone, zones) : undefined,
          regions.length ? inArray(simFlyMachines.region, regions) : undefined,
        ),
      ),
    )
    .returning({ id: simFlyMachines.id });
  for (const { id } of downed) ctx.controller.forget(id);
}

/** An unexpected stop: the machine exits on its own and flyd records it (`exit`, `flyd`). */
async function stopUnexpectedly(
  ctx: SimContext,
  app: string,
  stop: NonNullable<FaultsInput['stop_machines']>[number],
) {
  await mutateMachine(ctx, app, stop.machine_id, (m) => {
    if (!(UP as readonly string[]).includes(m.state)) return null;
    const at = ctx.nowMs();
    const exit_event = {
      exit_code: stop.exit_code,
      guest_exit_code: stop.exit_code,
      oom_killed: stop.oom_killed,
      requested_stop: false,
      restarting: false,
      exited_at: new Date(at).toISOString(),
    };
    return {
      state: 'stopped',
      steps: [],
      events: [{ type: 'exit', status: 'stopped', source: 'flyd', request: { exit_event }, at }],
    };
  });
}

/** `GET|POST|DELETE /_faults`: show, add (JSON, see `FaultsInput`) and clear faults. */
export function faultRoutes(ctx: SimContext) {
  const app = new Hono();
  app.get('/_faults', (c) => c.json(ctx.faults.view()));
  app.post('/_faults', async (c) => {
    const parsed = FaultsInput.safeParse(await jsonBody(c));
    if (!parsed.success) {
      const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`);
      throw invalid(`invalid faults: ${issues.join('; ')}`);
    }
    const input = parsed.data;
    const unreachable = input.unreachable?.machine_ids ?? [];
    const forgets = input.forget_runs ?? [];
    const stops = input.stop_machines ?? [];
    const ids = [...new Set([...unreachable, ...forgets, ...stops.map((s) => s.machine_id)])];
    const known = ids.length
      ? await ctx.db
          .select({ id: simFlyMachines.id, app: simFlyMachines.appName, zone: simFlyMachines.zone })
          .from(simFlyMachines)
          .where(inArray(simFlyMachines.id, ids))
      : [];
    const byId = new Map(known.map((m) => [m.id, m]));
    const missing = ids.filter((id) => !byId.has(id));
    // Check everything before changing anything.
    if (missing.length) throw invalid(`invalid faults: unknown machine ids: ${missing.join(', ')}`);
    const zones = [...new Set(unreachable.map((id) => byId.get(id)?.zone ?? ''))];
    for (const stop of stops)
      await stopUnexpectedly(ctx, byId.get(stop.machine_id)?.app ?? '', stop);
    for (const id of forgets) ctx.controller.forget(id);
    ctx.faults.add(input, zones);
    await downHosts(ctx, zones, input.unreachable?.regions ?? []);
    return c.json(ctx.faults.view());
  });
  app.delete('/_faults', (c) => {
    ctx.faults.clear();
    return c.json(ctx.faults.view());
  });
  return app;
}
