// Defect 8 of issue 18: a run writing ~1 MB ended `completed` with 262,144 bytes read (four
// 64 KiB pages a poll), without a word. A run ends only once its output is read to the size
// the controller reported, or its row says how much was not read and why.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { cliRuns } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';
import { simControllerOf, until } from '../helpers/sim-controller.ts';

/** 1,000 lines of 1,000 bytes: 1,000,000 bytes, written within 1 s (10 ms at the 0.01 scale). */
const MEGABYTE = '#sim duration=1s lines=1000 width=999\nprint a lot';

describe('a CLI run ends with all of its output, or says what was cut', async () => {
  // One step budget of 1 s, so a slow machine continues the drain in new doorbells.
  const t = await createTestApp({
    serve: true,
    env: { STEP_BUDGET_SECONDS: '1', CLI_RUN_MAX_OUTPUT_MB: '1' },
  });
  await seedCatalog(t);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);
  const rowOf = async (id: string) => {
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, id));
    if (!row) throw new Error('no run');
    return row;
  };
  const finishedOnMachine = (machineId: string) =>
    until(
      'the run to end on its machine',
      () => simControllerOf(t, machineId),
      (c) => c.runs.length === 1 && c.runs[0]?.status !== 'running',
    );

  it('a run that wrote ~1 MB ends completed with every byte read, the last 64 KiB kept', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const res = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: MEGABYTE });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    const [written] = (await finishedOnMachine(i.machineId)).runs;
    expect(written?.outputSize).toBe(1_000_000);
    await settleRuns(t);
    const run = await rowOf(res.body.id);
    expect(run).toMatchObject({
      status: 'completed',
      outputSize: 1_000_000,
      outputReportedSize: 1_000_000,
      outputCutReason: null,
    });
    expect(new TextEncoder().encode(run.outputTail).length).toBe(65_536);
    expect(run.outputTail.endsWith('.\n')).toBe(true);
    const api = await admin('GET', `/cli-runs/${res.body.id}`);
    expect(api.body).toMatchObject({ outputSize: 1_000_000, outputCut: null });
  });

  it('past the read limit (CLI_RUN_MAX_OUTPUT_MB) the run ends saying how much was not read and why', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const res = await admin('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1s lines=1500 width=999\nprint more',
    });
    await finishedOnMachine(i.machineId);
    await settleRuns(t);
    const run = await rowOf(res.body.id);
    expect(run.status).toBe('completed');
    expect(run.outputReportedSize).toBe(1_500_000);
    expect(run.outputSize).toBeGreaterThanOrEqual(1_048_576);
    const api = await admin('GET', `/cli-runs/${res.body.id}`);
    expect(api.body.outputCut).toEqual({
      bytes: 1_500_000 - run.outputSize,
      reason: 'only the first 1 MiB are read (CLI_RUN_MAX_OUTPUT_MB)',
    });
  });

  it('a controller that forgets a finished run before its output is read: ended, with the cut stated', async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no fleet');
    const res = await admin('POST', `/instances/${i.id}/cli-runs`, { prompt: MEGABYTE });
    await finishedOnMachine(i.machineId);
    // The first poll learns the size, but its first page fails: the run stays live, to be read.
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_get_cli_run_output', status: 500, times: 1 }],
    });
    t.clock.advance(3_000);
    await t.deliverDue();
    const waiting = await rowOf(res.body.id);
    expect(waiting).toMatchObject({ status: 'running', outputReportedSize: 1_000_000 });
    expect(waiting.lastError).toContain('HTTP 500');
    // Then its controller forgets it (the machine restarted): the rest cannot be read.
    await flyFaults(t, { forget_runs: [i.machineId] });
    await settleRuns(t);
    const run = await rowOf(res.body.id);
    expect(run.status).toBe('failed');
    expect(run.lastError).toContain('no longer knows this run');
    const api = await admin('GET', `/cli-runs/${res.body.id}`);
    expect(api.body.outputCut).toEqual({
      bytes: 1_000_000 - run.outputSize,
      reason: 'the controller no longer has the rest (its machine restarted or was replaced)',
    });
  });
});
