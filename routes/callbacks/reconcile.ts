import { Hono } from 'hono';
import { runReconcile } from '../../src/recovery/reconcile.ts';
import type { AppEnv } from '../env.ts';
import { respond } from './respond.ts';

/** `POST /api/callbacks/reconcile`: rung every minute by a QStash schedule. */
export function reconcileRoute() {
  return new Hono<AppEnv>().post('/reconcile', async (c) => {
    const run = await runReconcile(c.get('deps'), {
      messageId: c.get('callback')?.messageId ?? null,
    });
    return respond(c, {
      outcome: 'done',
      result: {
        runId: run.id,
        compared: run.compared,
        diverged: run.diverged,
        recoveriesStarted: run.recoveriesStarted,
        recoveriesRetried: run.recoveriesRetried,
        recorded: run.recorded,
        volumesDeleted: run.volumesDeleted,
        durationMs: run.durationMs,
      },
    });
  });
}
