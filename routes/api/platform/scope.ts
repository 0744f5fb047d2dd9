import type { Context, MiddlewareHandler, Next } from 'hono';
import { requireUserCliRun } from '../../../src/cli-runs/queries.ts';
import { requireUserInstance } from '../../../src/fleet/instances.ts';
import { AppError, ForbiddenError, NotFoundError } from '../../../src/lib/errors.ts';
import type { AppEnv } from '../../env.ts';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** 400 `user-required`: a platform key that names no user, on a route that acts for one. */
export class UserRequiredError extends AppError {
  constructor() {
    super(
      400,
      'user-required',
      'User required',
      'This route acts for one user: send a user token, or the platform key with a Fleetwarden-User header.',
    );
  }
}

type Check = (c: Context<AppEnv>, id: string, userId: string) => Promise<void>;

/** The acting user, or 400 when none is named. */
function actingUser(c: Context<AppEnv>): string {
  const user = c.get('platformUser');
  if (!user) throw new UserRequiredError();
  return user.userId;
}

/**
 * Runs `check` on the path's id for the acting user before the route. Ids that are not
 * UUIDs are left to the route's own validation (400).
 */
const scoped =
  (param: string, check: Check): MiddlewareHandler<AppEnv> =>
  async (c, next: Next) => {
    const id = c.req.param(param);
    if (id && UUID.test(id)) await check(c, id, actingUser(c));
    await next();
  };

/**
 * The tenancy rules of /api/platform, by path, so every route under them is covered (in
 * this order; every route needs an acting user, else 400 `user-required`):
 *
 * - `/users/{userId}/…`: the path names the user; a user token (or header) for another
 *   user gets the same 404 as an unknown user; minting tokens needs the platform key (403).
 * - `/instances/{id}/…`: the instance must belong to the acting user (404 otherwise).
 * - `/cli-runs/{runId}/…`: the run must be a user's run on the acting user's instance;
 *   admins' runs and other users' answer 404.
 */
export function platformScopes(): [string, MiddlewareHandler<AppEnv>][] {
  const user: MiddlewareHandler<AppEnv> = async (c, next) => {
    const userId = c.req.param('userId');
    if (!userId || !UUID.test(userId)) return next();
    const acting = c.get('platformUser');
    if (acting && acting.userId !== userId.toLowerCase()) throw new NotFoundError('User', userId);
    if (acting?.via === 'token' && /^\/api\/platform\/users\/[^/]+\/tokens/.test(c.req.path))
      throw new ForbiddenError('User tokens cannot mint or revoke tokens: use the platform key.');
    if (!acting) c.set('platformUser', { userId: userId.toLowerCase(), via: 'key' });
    await next();
  };
  const instance = scoped('instanceId', (c, id, userId) =>
    requireUserInstance(c.get('deps').db, id, userId),
  );
  const run = scoped('runId', (c, id, userId) => requireUserCliRun(c.get('deps').db, id, userId));
  // Every platform route acts for one user: after the path has had its say, one is required.
  const required: MiddlewareHandler<AppEnv> = async (c, next) => {
    actingUser(c);
    await next();
  };
  return [
    ['/users/:userId', user],
    ['/users/:userId/*', user],
    ['*', required],
    ['/instances/:instanceId', instance],
    ['/instances/:instanceId/*', instance],
    ['/cli-runs/:runId', run],
    ['/cli-runs/:runId/*', run],
  ];
}
