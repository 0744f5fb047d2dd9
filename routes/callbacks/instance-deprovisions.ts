import { Hono } from 'hono';
import { z } from 'zod';
import { runDeprovisionStep } from '../../src/deprovision/run-step.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ deprovisionId: z.uuid() });

/**
 * `POST /api/callbacks/instance-deprovisions`: one step of an instance's deprovision.
 * Answers 200 once the step's outcome is committed and its continuation rung; a duplicate,
 * early or late doorbell changes nothing; an unknown deprovision is dropped.
 */
export function instanceDeprovisionsRoute() {
  return new Hono<AppEnv>().post('/instance-deprovisions', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runDeprovisionStep(c.get('deps'), { deprovisionId: body.deprovisionId });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown deprovision' });
    return respond(c, {
      outcome: 'done',
      result: {
        run: run.outcome,
        ...('reason' in run ? { reason: run.reason } : {}),
        ...('deprovision' in run
          ? { status: run.deprovision.status, step: run.deprovision.step }
          : {}),
      },
    });
  });
}
