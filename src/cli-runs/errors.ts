import { type ControllerError, isControllerError } from '../adapters/controller/errors.ts';
import { AppError, ConflictError } from '../lib/errors.ts';

/** 409 `cli-run-live`: the instance already has a live run; `liveRunId` names it. */
export const runLive = (instanceId: string, liveRunId: string) =>
  new ConflictError(
    `A CLI run is already live on this instance (${liveRunId}).`,
    { instanceId, liveRunId },
    'cli-run-live',
  );

/**
 * 502 `controller-failed`: the instance's controller did not do what was asked. `runId`
 * names the run the answer is about; the detail says why and what state the run is in.
 */
export class ControllerFailedError extends AppError {
  constructor(detail: string, runId: string) {
    super(502, 'controller-failed', "The instance's controller failed", detail, { runId });
  }
}

/** A controller failure in words for a run's `last_error` (no token: messages never carry it). */
export function describeControllerError(error: unknown): string {
  if (!isControllerError(error)) return `unexpected error: ${String(error)}`;
  const e = error as ControllerError;
  switch (e.kind) {
    case 'timeout':
      return `the controller did not answer in time (${e.message})`;
    case 'unreachable':
      return `the controller was unreachable (${e.message})`;
    case 'unauthorized':
      return `the controller refused the instance's token; a version change gives the machine the current one (${e.message})`;
    default:
      return `the controller answered an error (${e.message})`;
  }
}
