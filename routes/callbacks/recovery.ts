import { Hono } from 'hono';
import { z } from 'zod';
import { runRecoveryStep } from '../../src/recovery/run-step.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ recoveryId: z.uuid() });

/**
 * `POST /api/callbacks/recovery`: one step of an unexpected-stop recovery. Answers 200
 * once the step's outcome is committed and its continuation rung; a duplicate, early or
 * late doorbell changes nothing; an unknown recovery is dropped.
 */
export function recoveryRoute() {
  return new Hono<AppEnv>().post('/recovery', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runRecoveryStep(c.get('deps'), { recoveryId: body.recoveryId });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown recovery' });
    return respond(c, {
      outcome: 'done',
      result: {
        run: run.outcome,
        ...('reason' in run ? { reason: run.reason } : {}),
        ...('recovery' in run ? { status: run.recovery.status, step: run.recovery.step } : {}),
      },
    });
  });
}
