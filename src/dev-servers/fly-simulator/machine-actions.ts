// Start, stop, restart, suspend, destroy and events (docs: machines/api/machines-resource;
// bodies from the docs' example responses).
import { Hono } from 'hono';
import { currentTimings, type SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import { assertLeaseAllows, NONCE_HEADER } from './leases.ts';
import { hostDown } from './placement.ts';
import { invalid, jsonBody, noCapacity } from './respond.ts';
import { eventJson } from './serialize.ts';
import { type Plan, planDestroy, planRestart, planStart, planStop, planSuspend } from './state.ts';
import { type Change, eventsFor, type MachineRow, mutateMachine, requireMachine } from './store.ts';

const fromPlan = (plan: Plan, at: number): Change => ({
  state: plan.state,
  steps: plan.steps,
  events: [{ ...plan.event, at }],
});

/**
 * `POST …/{id}/start|stop|restart|suspend`, `DELETE …/{id}` and `GET …/{id}/events`. Bodies:
 * start `{previous_state, migrated, new_host}`, the others `{"ok":true}`; 409 while leased
 * without the nonce, 412 from a state that does not allow the action, 503 on a dead host.
 */
export function machineActionRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  const base = '/v1/apps/:app/machines/:id';

  /** Lease check, host check, then `plan` on the current row (null: nothing to do). */
  const act = (
    c: { req: { param(k: 'app' | 'id'): string; header(k: string): string | undefined } },
    plan: (m: MachineRow, t0: number) => Plan | null,
    options: { needsHost?: boolean } = {},
  ) =>
    mutateMachine(ctx, c.req.param('app'), c.req.param('id'), async (m) => {
      await assertLeaseAllows(ctx, m.id, c.req.header(NONCE_HEADER));
      if (options.needsHost !== false && ctx.faults.hostUnreachable(m)) throw hostDown(m.id);
      const t0 = ctx.nowMs();
      const p = plan(m, t0);
      return p ? fromPlan(p, t0) : null;
    });

  app.post(`${base}/start`, guard('start_machine'), async (c) => {
    let previous = '';
    await act(c, (m, t0) => {
      previous = m.state;
      const p = planStart(m.state, t0, currentTimings(ctx));
      if (p && ctx.faults.state.outOfCapacity.has(m.region)) throw noCapacity('machine', m.region);
      return p;
    });
    return c.json({ previous_state: previous, migrated: false, new_host: '' });
  });

  app.post(`${base}/stop`, guard('stop_machine'), async (c) => {
    // StopRequest {signal?, timeout?}: accepted and not simulated (the stop takes stopMs).
    const body = await jsonBody(c, true);
    if (body.signal != null && typeof body.signal !== 'string')
      throw invalid('signal must be a string');
    await act(c, (m, t0) => planStop(m.state, t0, ctx.timings));
    return c.json({ ok: true });
  });

  app.post(`${base}/restart`, guard('restart_machine'), async (c) => {
    await act(c, (m, t0) => planRestart(m.state, t0, currentTimings(ctx)));
    return c.json({ ok: true });
  });

  app.post(`${base}/suspend`, guard('suspend_machine'), async (c) => {
    await act(c, (m, t0) => planSuspend(m.state, t0, ctx.timings));
    return c.json({ ok: true });
  });

  app.delete(base, guard('delete_machine'), async (c) => {
    // `force` (docs, OAS) and `kill` (fly-go) both force-stop a running machine.
    const force = c.req.query('force') === 'true' || c.req.query('kill') === 'true';
    await act(c, (m, t0) => planDestroy(m.state, force, t0, ctx.timings), { needsHost: !force });
    return c.json({ ok: true });
  });

  app.get(`${base}/events`, guard('list_events'), async (c) => {
    const machine = await requireMachine(ctx, c.req.param('app'), c.req.param('id'));
    const events = await eventsFor(ctx, [machine.id], 1000);
    return c.json((events.get(machine.id) ?? []).map(eventJson));
  });

  return app;
}
