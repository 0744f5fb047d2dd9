import { eq } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { cliRuns } from '../../db/schema/index.ts';
import type { ControllerTarget } from '../adapters/controller/types.ts';

export type CliRun = typeof cliRuns.$inferSelect;

/** The doorbell path of the follow handler. */
export const CLI_RUNS_PATH = '/api/callbacks/cli-runs';
/** The follow polls after this long (ms) when output arrived, doubling up to the max. */
export const FOLLOW_MIN_MS = 2_000;
export const FOLLOW_MAX_MS = 30_000;
/** The output kept on the row: the last 64 KiB. */
export const OUTPUT_TAIL_BYTES = 65_536;

export const isLive = (run: Pick<CliRun, 'status'>) =>
  run.status === 'starting' || run.status === 'running';

/** The machine the run was started on and the instance whose token it expects. */
export const targetOf = (run: CliRun): ControllerTarget => ({
  appName: run.appName,
  machineId: run.machineId,
  instanceId: run.instanceId,
});

/** The next follow delay: back to 2 s when output arrived, else doubled up to 30 s (ms). */
export function nextDelayMs(current: number, gotOutput: boolean): number {
  return gotOutput ? FOLLOW_MIN_MS : Math.min(FOLLOW_MAX_MS, Math.max(FOLLOW_MIN_MS, current * 2));
}

/**
 * The follow doorbell for the run's `nextCheckAt`, deduplicated per claim (`attempts`): a
 * duplicate ring for the same poll is one message.
 */
export function followDoorbell(
  run: Pick<CliRun, 'id' | 'attempts' | 'nextCheckAt'>,
  purpose = `after-${run.attempts}`,
) {
  return {
    path: CLI_RUNS_PATH,
    body: { runId: run.id },
    ...(run.nextCheckAt ? { notBefore: run.nextCheckAt } : {}),
    deduplicationId: `cli-run-${run.id}-${purpose}`,
  };
}

export async function findRun(db: Db, id: string): Promise<CliRun | null> {
  const [row] = await db.select().from(cliRuns).where(eq(cliRuns.id, id));
  return row ?? null;
}
