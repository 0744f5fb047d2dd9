import { Hono } from 'hono';
import type { AppEnv } from '../env.ts';
import { limitBody, MiB } from '../middleware/body-limit.ts';
import { agentTriggerRoutes } from './agent-triggers.ts';
import { cliRunsRoute } from './cli-runs.ts';
import { instanceDeprovisionsRoute } from './instance-deprovisions.ts';
import { instanceOperationsRoute } from './instance-operations.ts';
import { refuseLocalKeysFromOutside } from './local-keys.ts';
import { noticesRoute } from './notices.ts';
import { reconcileRoute } from './reconcile.ts';
import { recoveryRoute } from './recovery.ts';
import { scheduledStagesRoute } from './scheduled-stages.ts';
import { sweepRoute } from './sweep.ts';
import { verifyQStashSignature } from './verify.ts';

/** `/api/callbacks/*`: QStash-signed doorbells. Only a valid signature gets past the first middleware. */
export function callbackRoutes() {
  const app = new Hono<AppEnv>();
  // Doorbells carry ids only; the limit applies before the signature check reads the body.
  app.use('*', limitBody(MiB));
  // Before the signature: in embedded mode anyone can sign with the published local keys.
  app.use('*', refuseLocalKeysFromOutside());
  app.use('*', verifyQStashSignature());
  app.route('/', sweepRoute());
  app.route('/', instanceOperationsRoute());
  app.route('/', scheduledStagesRoute());
  app.route('/', noticesRoute());
  app.route('/', reconcileRoute());
  app.route('/', recoveryRoute());
  app.route('/', instanceDeprovisionsRoute());
  app.route('/', cliRunsRoute());
  app.route('/', agentTriggerRoutes());
  return app;
}
