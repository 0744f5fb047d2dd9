// `GET /v1/apps/{app}/machines/{id}/wait` (docs: machines-resource, "Wait for a Machine to
// reach a specified state"; 400/408 texts as observed on the live API, notes §4).
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { simFlyMachineVersions } from '../../../db/dev-schema/index.ts';
import type { SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import { invalid, SimError } from './respond.ts';
import { TRANSIENT } from './state.ts';
import { type MachineRow, requireMachine } from './store.ts';

const WAITABLE = new Set(['started', 'stopped', 'suspended', 'destroyed', 'settled']);

/** Poll interval: 25 ms of simulated time, never under 5 ms of real time. */
const POLL_MS = 25;

/**
 * The state of the waited-for version: the machine's state, `replaced` for an older
 * version (docs: machine-states, "replaced"), `destroyed` once the machine is.
 */
function versionState(machine: MachineRow, instanceId: string | undefined): string {
  if (machine.state === 'destroyed') return 'destroyed';
  return instanceId && instanceId !== machine.instanceId ? 'replaced' : machine.state;
}

/** `settled` (flyctl ≥ PR #4765): any state the machine will not leave on its own. */
const reached = (want: string[], state: string) =>
  want.includes(state) || (want.includes('settled') && !TRANSIENT.has(state));

/** Seconds from `timeout` (an integer, or a Go duration in whole seconds such as `30s`). */
function timeoutSeconds(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 60;
  const match = /^(\d+)s?$/.exec(raw.trim());
  const seconds = match ? Number(match[1]) : Number.NaN;
  if (!(seconds >= 1 && seconds <= 60))
    throw invalid('invalid WaitMachineRequest.Timeout: value must be inside range [1s, 1m0s]');
  return seconds;
}

/**
 * Holds the request, checking the store when the next scheduled transition is due, until the machine (or the given version) is in one
 * of the wanted states (200 `{"ok":true,"state"}`) or `timeout` seconds × timeScale have
 * passed (408). Bad `timeout`, `state`, or `stopped` without a version: 400.
 */
export function waitRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  app.get('/v1/apps/:app/machines/:id/wait', guard('wait'), async (c) => {
    const q = new URL(c.req.url).searchParams;
    // fly-go repeats `state` for several states and never comma-splits.
    const want = q.getAll('state').length ? q.getAll('state') : ['started'];
    const bad = want.find((s) => !WAITABLE.has(s));
    if (bad) throw invalid(`invalid WaitMachineRequest.State: unknown state "${bad}"`);
    const instanceId = q.get('instance_id') || q.get('version') || undefined;
    if (want.includes('stopped') && !instanceId)
      throw invalid(
        'invalid WaitMachineRequest.InstanceId: instance_id is required when waiting for the stopped state',
      );
    const timeout = timeoutSeconds(q.get('timeout') ?? undefined);
    const appName = c.req.param('app');
    const id = c.req.param('id');
    let machine = await requireMachine(ctx, appName, id);
    if (instanceId && instanceId !== machine.instanceId) {
      const [known] = await ctx.db
        .select({ machineId: simFlyMachineVersions.machineId })
        .from(simFlyMachineVersions)
        .where(eq(simFlyMachineVersions.instanceId, instanceId));
      if (known?.machineId !== id)
        throw new SimError(404, `not_found: machine version ${instanceId} not found`);
    }
    const deadline = ctx.nowMs() + ctx.scaled(timeout * 1000);
    const pollMs = Math.max(5, ctx.scaled(POLL_MS));
    for (;;) {
      const state = versionState(machine, instanceId);
      if (reached(want, state)) return c.json({ ok: true, state });
      if (ctx.nowMs() >= deadline)
        throw new SimError(
          408,
          `deadline_exceeded: machine failed to reach desired state, ${want.join(', ')}, currently ${state}`,
        );
      // Transitions are scheduled, so sleep until the next one is due (or the deadline), but
      // wake at least every 20 polls to notice other requests changing the machine.
      const nextStep = machine.dueAt
        ? machine.dueAt.getTime() - ctx.nowMs()
        : Number.POSITIVE_INFINITY;
      await ctx.sleep(Math.max(pollMs, Math.min(nextStep, deadline - ctx.nowMs(), pollMs * 20)));
      machine = await requireMachine(ctx, appName, id);
    }
  });
  return app;
}
