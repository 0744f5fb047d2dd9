import { requireApiKey } from '../../middleware/bearer.ts';
import { requireUtf8Json } from '../../middleware/utf8-json.ts';
import { agentRoutes } from '../agents/routes.ts';
import { apiApp } from '../app.ts';
import { adminCliRunRoutes } from '../cli-runs.ts';
import { adminDeprovisionRoutes } from '../deprovision.ts';
import { auditLogRoutes } from './audit-log.ts';
import { imageRoutes } from './images.ts';
import { instanceActionRoutes } from './instance-actions.ts';
import { instanceRoutes } from './instances.ts';
import { meRoute } from './me.ts';
import { noticeRoutes } from './notices.ts';
import { recoveryRoutes } from './recoveries.ts';
import { scheduledActionRoutes } from './scheduled-actions.ts';

/** /api/admin: automation acting as an admin, authenticated by admin API tokens. */
export function adminApi() {
  const app = apiApp();
  app.use('*', requireApiKey('admin'), requireUtf8Json());
  app.route('/', meRoute());
  app.route('/', instanceActionRoutes());
  app.route('/', instanceRoutes());
  app.route('/', adminDeprovisionRoutes());
  app.route('/', auditLogRoutes());
  app.route('/', imageRoutes());
  app.route('/', scheduledActionRoutes());
  app.route('/', noticeRoutes());
  app.route('/', recoveryRoutes());
  app.route('/', adminCliRunRoutes());
  app.route('/', agentRoutes('admin'));
  return app;
}
