import { Hono } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';
import { appRoutes } from './apps.ts';
import { createContext, type FlySimulatorOptions } from './context.ts';
import { controllerRoutes, controllerStateRoutes } from './controller.ts';
import { createEndpointGuard, faultRoutes } from './faults.ts';
import { gatewayRoutes } from './gateway.ts';
import { leaseRoutes } from './leases.ts';
import { machineActionRoutes } from './machine-actions.ts';
import { machineRoutes } from './machines.ts';
import { errorResponse, SimError } from './respond.ts';
import { volumeRoutes } from './volumes.ts';
import { waitRoutes } from './wait.ts';

export type { FlySimulatorOptions, SimTimings } from './context.ts';
export { type Endpoint, FaultsInput } from './faults-state.ts';
export { simulatorControllerUrlFor, simulatorGatewayUrlFor } from './gateway.ts';

const unauthenticated = () => new SimError(401, 'Authenticate: token validation error');

/**
 * An in-process Fly Machines API for embedded mode and tests, persisted in the app's
 * database (`sim_fly_*` tables) so a demo fleet survives a restart. Mount it at
 * `/__dev/fly` and point the client at it:
 *
 * ```ts
 * app.route('/__dev/fly', createFlySimulator({ db }));
 * createFlyClient({ baseUrl: 'http://localhost:8787/__dev/fly', token: 'dev' });
 * ```
 *
 * Serves `/v1/apps/…` (machines, leases, wait, events, volumes, snapshots; bearer token
 * required), `/_faults` (fault injection, same auth), `/_controller-state` (every
 * controller's runs and sessions, same auth) and `/gateway/{app}/{id}/healthz`
 * (the simulated edge, no auth) and `/gateway/{app}/_controller/…` (each started machine's
 * instance controller, chosen by `fly-force-instance-id`; its own bearer token). Transitions take simulated time and are applied lazily
 * on the next read (no background loop). Faults and rate-limit buckets live in memory.
 */
export function createFlySimulator(options: FlySimulatorOptions): Hono {
  const ctx = createContext(options);
  const guard = createEndpointGuard(ctx);
  const app = new Hono();

  const requireBearer = async (authorization: string | undefined) => {
    const match = /^(?:Bearer|FlyV1)\s+(\S.*)$/i.exec(authorization ?? '');
    if (!match?.[1]) throw unauthenticated();
    if (options.token !== undefined && !(await timingSafeEqual(match[1], options.token)))
      throw unauthenticated();
  };
  app.use('/v1/*', async (c, next) => {
    await requireBearer(c.req.header('authorization'));
    await next();
  });
  for (const path of ['/_faults', '/_controller-state'])
    app.use(path, async (c, next) => {
      await requireBearer(c.req.header('authorization'));
      await next();
    });

  app.route('/', appRoutes(ctx, guard));
  app.route('/', machineRoutes(ctx, guard));
  app.route('/', machineActionRoutes(ctx, guard));
  app.route('/', leaseRoutes(ctx, guard));
  app.route('/', waitRoutes(ctx, guard));
  app.route('/', volumeRoutes(ctx, guard));
  app.route('/', faultRoutes(ctx));
  app.route('/', gatewayRoutes(ctx));
  app.route('/', controllerRoutes(ctx, guard));
  app.route('/', controllerStateRoutes(ctx));

  app.notFound((c) =>
    c.json({ error: `not_found: no route for ${c.req.method} ${c.req.path}` }, 404),
  );
  app.onError((error, c) => {
    if (error instanceof SimError) return errorResponse(c, error);
    console.error('fly simulator: unexpected error', error);
    return c.json({ error: 'internal: simulator error' }, 500);
  });
  return app;
}
