import { ControllerError } from '../adapters/controller/errors.ts';
import type { Deps } from '../deps.ts';
import { describeControllerError } from './errors.ts';
import { type CliRun, targetOf } from './model.ts';
import { appendTail } from './output.ts';

/** What one poll read of a run's output. */
export type Drained = {
  /** The kept tail (the last 64 KiB) with what was read appended. */
  tail: string;
  /** Bytes read in all: the next offset. */
  size: number;
  /**
   * `drained`: read up to `upTo`; `budget`: out of time, go on in the next doorbell; `cap`:
   * the read limit (`CLI_RUN_MAX_OUTPUT_MB`) is reached; `stalled`: the controller served no
   * more bytes than read although it reported more; `failed`: a page failed.
   */
  stop: 'drained' | 'budget' | 'cap' | 'stalled' | 'failed';
  /** With `failed`: why, and whether the controller no longer knows the run (404). */
  error?: { words: string; notFound: boolean; cause: unknown };
};

/**
 * Reads a run's output from its offset up to `upTo` bytes (the size the controller
 * reported), page after page (at most 64 KiB each, docs/controller-openapi.yaml), until it
 * is all read, `budgetMs` of real time is spent (the caller goes on in a new doorbell,
 * within its lease), `maxBytes` are read in all, or a page fails. Only the last 64 KiB are
 * kept (`appendTail`); `size` counts every byte read. Never throws.
 */
export async function drainOutput(
  deps: Pick<Deps, 'controller'>,
  run: CliRun,
  upTo: number,
  limits: { budgetMs: number; maxBytes: number },
): Promise<Drained> {
  const started = performance.now();
  let size = run.outputSize;
  let tail = run.outputTail;
  for (;;) {
    if (size >= upTo) return { tail, size, stop: 'drained' };
    if (size >= limits.maxBytes) return { tail, size, stop: 'cap' };
    if (performance.now() - started > limits.budgetMs) return { tail, size, stop: 'budget' };
    try {
      const out = await deps.controller.getCliRunOutput(
        targetOf(run),
        run.controllerRunId ?? '',
        size,
      );
      tail = appendTail(tail, out.chunks.map((c) => c.text).join(''));
      // A controller that gives nothing more although it reported more is not spun on.
      if (out.nextOffset <= size) return { tail, size, stop: 'stalled' };
      size = out.nextOffset;
    } catch (cause) {
      return {
        tail,
        size,
        stop: 'failed',
        error: {
          words: describeControllerError(cause),
          notFound: cause instanceof ControllerError && cause.kind === 'not_found',
          cause,
        },
      };
    }
  }
}
