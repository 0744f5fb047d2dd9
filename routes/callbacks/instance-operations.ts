import { Hono } from 'hono';
import { z } from 'zod';
import { runOperationStep } from '../../src/fleet/operations/step.ts';
import type { AppEnv } from '../env.ts';
import { callbackBody, isOutcome, respond } from './respond.ts';

const Body = z.object({ operationId: z.uuid() });

/**
 * `POST /api/callbacks/instance-operations`: one step of an immediate instance action.
 * Answers 200 once the step's outcome is committed (a duplicate or late doorbell is a
 * no-op; an early one has rung itself again for the due time); an unknown operation is
 * dropped.
 */
export function instanceOperationsRoute() {
  return new Hono<AppEnv>().post('/instance-operations', async (c) => {
    const body = callbackBody(c, Body);
    if (isOutcome(body)) return respond(c, body);
    const run = await runOperationStep(c.get('deps'), {
      operationId: body.operationId,
      messageId: c.get('callback')?.messageId ?? null,
    });
    if (run.outcome === 'skipped' && run.reason === 'unknown')
      return respond(c, { outcome: 'drop', reason: 'unknown operation' });
    return respond(c, {
      outcome: 'done',
      result: {
        run: run.outcome,
        ...('operation' in run ? { status: run.operation.status, step: run.operation.step } : {}),
        ...(run.outcome === 'early' ? { dueAt: run.dueAt.toISOString() } : {}),
      },
    });
  });
}
