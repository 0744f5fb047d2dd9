// The simulated edge: what `https://<app>.fly.dev/healthz` with `fly-force-instance-id`
// answers for one machine in production, served by the simulator itself.
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { simFlyMachines } from '../../../db/dev-schema/index.ts';
import type { MachineConfig } from '../../adapters/fly/types.ts';
import type { SimContext } from './context.ts';
import { advance } from './store.ts';

/**
 * `urlFor` for `createHttpGateway` pointing at a simulator mounted at `simulatorBaseUrl`
 * (e.g. `http://localhost:8787/__dev/fly`): `<base>/gateway/<app>/<machineId>/healthz`.
 */
export function simulatorGatewayUrlFor(simulatorBaseUrl: string) {
  const base = simulatorBaseUrl.replace(/\/+$/, '');
  return ({ appName, machineId }: { appName: string; machineId: string }) =>
    `${base}/gateway/${encodeURIComponent(appName)}/${encodeURIComponent(machineId)}/healthz`;
}

/**
 * `baseUrlFor` for the controller client: `<base>/gateway/<app>` stands in for
 * `https://<app>.fly.dev`; the machine is chosen by `fly-force-instance-id`, as there.
 */
export function simulatorControllerUrlFor(simulatorBaseUrl: string) {
  const base = simulatorBaseUrl.replace(/\/+$/, '');
  return (appName: string) => `${base}/gateway/${encodeURIComponent(appName)}`;
}

/**
 * `GET /gateway/{app}/{machineId}/healthz` (no auth, like a public health endpoint):
 * 200 `{"status":"ok","instance_id","image"}` when the machine is started, its host is
 * reachable and it is not marked unhealthy; otherwise 503 `{"status":"unavailable","reason"}`
 * (404 for an unknown machine).
 */
export function gatewayRoutes(ctx: SimContext) {
  const app = new Hono();
  app.get('/gateway/:app/:id/healthz', async (c) => {
    const [row] = await ctx.db
      .select()
      .from(simFlyMachines)
      .where(eq(simFlyMachines.id, c.req.param('id')));
    if (!row || row.appName !== c.req.param('app'))
      return c.json({ status: 'unavailable', reason: 'no such machine' }, 404);
    const machine = await advance(ctx, row);
    const reason =
      machine.state !== 'started'
        ? `machine is ${machine.state}`
        : ctx.faults.hostUnreachable(machine)
          ? 'host is unreachable'
          : ctx.faults.state.unhealthy.has(machine.id)
            ? 'health check failing (injected fault)'
            : null;
    if (reason) return c.json({ status: 'unavailable', reason }, 503);
    const image = (machine.config as MachineConfig).image;
    return c.json({ status: 'ok', instance_id: machine.instanceId, image });
  });
  return app;
}
