import { Hono } from 'hono';
import { runSweep } from '../../src/doorbells/run.ts';
import type { AppEnv } from '../env.ts';
import { respond } from './respond.ts';

/** `POST /api/callbacks/sweep`: rung every minute by a QStash schedule. */
export function sweepRoute() {
  return new Hono<AppEnv>().post('/sweep', async (c) => {
    const run = await runSweep(c.get('deps'), { messageId: c.get('callback')?.messageId ?? null });
    return respond(c, {
      outcome: 'done',
      result: {
        runId: run.id,
        found: run.found,
        rerung: run.rerung,
        leasesReturned: run.leasesReturned,
      },
    });
  });
}
