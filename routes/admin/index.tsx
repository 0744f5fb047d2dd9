import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { requireAdminSession } from '../middleware/admin-session.ts';
import { KiB, limitBody, MiB } from '../middleware/body-limit.ts';
import { sameOriginOnly } from '../middleware/same-origin.ts';
import { accountRoutes } from './account.tsx';
import { agentConsoleRoutes } from './agents.tsx';
import { auditRoutes } from './audit.tsx';
import { cliRunConsoleRoutes, instanceCliRunRoutes } from './cli-runs.tsx';
import { deliveryRoutes } from './deliveries.tsx';
import { instanceDetailRoutes } from './instance-detail.tsx';
import { instanceRoutes } from './instances.tsx';
import { loginRoutes } from './login.tsx';
import { outboxRoutes } from './outbox.tsx';
import { overviewRoutes } from './overview.tsx';
import { recoveryConsoleRoutes } from './recoveries.tsx';
import { renderer } from './renderer.tsx';
import { schedulerRoutes } from './scheduler.tsx';
import { schedulerDetailRoutes } from './scheduler-detail.tsx';
import { settingsRoutes } from './settings.tsx';

/**
 * The admin console under /admin: server-rendered pages and htmx fragments. Every unsafe
 * request, whatever its content type, must come from our own origin (Sec-Fetch-Site or
 * Origin; the session cookie is SameSite=Lax as well). Everything but sign-in needs a session.
 */
export function adminRoutes() {
  const app = new Hono<AppEnv>();
  // Sign-in is unauthenticated and needs two short fields; the largest console form is the
  // scheduler's pasted instance ids (up to 20,000, ≈ 800 KB).
  app.use('/login', limitBody(16 * KiB));
  app.use(limitBody(MiB));
  app.use(sameOriginOnly());
  app.use(renderer);
  app.route('/', loginRoutes());
  app.use(requireAdminSession());
  app.route('/', overviewRoutes());
  app.route('/instances', instanceRoutes());
  app.route('/instances', instanceDetailRoutes());
  app.route('/instances', instanceCliRunRoutes());
  app.route('/cli-runs', cliRunConsoleRoutes());
  app.route('/scheduler', schedulerRoutes());
  app.route('/scheduler', schedulerDetailRoutes());
  app.route('/recoveries', recoveryConsoleRoutes());
  app.route('/audit', auditRoutes());
  app.route('/deliveries', deliveryRoutes());
  app.route('/', outboxRoutes());
  app.route('/agents', agentConsoleRoutes());
  app.route('/settings', settingsRoutes());
  app.route('/account', accountRoutes());
  return app;
}
