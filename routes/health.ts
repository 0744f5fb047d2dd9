import { Hono } from 'hono';
import { checkReadiness } from '../src/ops/readiness.ts';
import type { AppEnv } from './env.ts';

/**
 * Liveness and readiness for load balancers and orchestrators (public, no secrets):
 * `/healthz` answers while the process serves requests; `/readyz` answers 200 only when
 * the database is reachable and every migration of this build is applied, else 503.
 */
export function healthRoutes(startedAt: Date) {
  const app = new Hono<AppEnv>();
  app.get('/healthz', (c) =>
    c.json({ status: 'ok', uptimeSeconds: Math.round((Date.now() - startedAt.getTime()) / 1000) }),
  );
  app.get('/readyz', async (c) => {
    const r = await checkReadiness(c.get('deps'));
    c.header('Cache-Control', 'no-store');
    return c.json(
      { status: r.ready ? 'ready' : 'not_ready', database: r.database, migrations: r.migrations },
      r.ready ? 200 : 503,
    );
  });
  return app;
}
