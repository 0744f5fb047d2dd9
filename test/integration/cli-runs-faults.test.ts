import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { cliRuns, instanceEvents, instances } from '../../db/schema/index.ts';
import type { ControllerClient } from '../../src/adapters/controller/client.ts';
import { CLI_RUNS_PATH } from '../../src/cli-runs/model.ts';
import { cliRunUnits } from '../../src/cli-runs/units.ts';
import { sweeperOf } from '../../src/lib/work/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';

/** Counts controller calls by method, and can hold the next start until released. */
function instrument() {
  const calls: Record<string, number> = {};
  let hold: { gate: Promise<void>; open: () => void; reached: () => void } | null = null;
  const wrap = (inner: ControllerClient): ControllerClient =>
    Object.fromEntries(
      Object.entries(inner).map(([name, fn]) => [
        name,
        async (...args: unknown[]) => {
          calls[name] = (calls[name] ?? 0) + 1;
          if (name === 'startCliRun' && hold) {
            const { gate, reached } = hold;
            hold = null;
            reached();
            await gate;
          }
          return (fn as (...a: unknown[]) => unknown)(...args);
        },
      ]),
    ) as ControllerClient;
  return {
    calls,
    wrap,
    /**
     * The next start waits until `open()`: a starter stalled (or crashed) mid-way.
     * `reached` settles when that start has called the controller (its row is written).
     */
    holdNextStart() {
      let open = () => {};
      let reached = () => {};
      const gate = new Promise<void>((r) => {
        open = r;
      });
      const called = new Promise<void>((r) => {
        reached = r;
      });
      hold = { gate, open, reached };
      return Object.assign(open, { reached: called });
    },
  };
}

describe('CLI runs when things go wrong', async () => {
  const probe = instrument();
  let dropFollowRings = false;
  const t = await createTestApp({
    serve: true,
    maxConnections: 25,
    wrapController: probe.wrap,
    // A switch to lose follow doorbells (a publish that never reached the queue).
    wrapDoorbells: (d) => ({
      ...d,
      ring: (item) =>
        dropFollowRings && item.path === CLI_RUNS_PATH ? Promise.resolve('lost') : d.ring(item),
    }),
    env: { CLI_RUN_MAX_MINUTES: '5' },
  });
  await seedCatalog(t);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);
  const one = async () => {
    const [i] = await fleetOf(t, 1);
    if (!i) throw new Error('no instance');
    return i;
  };
  /** Waits until the simulator reports the machine stopped (a stop takes its scaled time). */
  const stopped = (machineId: string) =>
    expect
      .poll(async () => (await t.deps.fly.getMachine(t.deps.config.fly.appName, machineId)).state, {
        interval: 10,
      })
      .toBe('stopped');
  const rowOf = async (id: string) => {
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, id));
    if (!row) throw new Error('no row');
    return row;
  };

  it('20 concurrent starts on one instance from 20 connections: one 201, nineteen 409 naming it', async () => {
    const i = await one();
    const answers = await Promise.all(
      Array.from({ length: 20 }, () =>
        platform('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' }),
      ),
    );
    const created = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(created).toHaveLength(1);
    expect(refused).toHaveLength(19);
    const id = created[0]?.body.id;
    expect(new Set(refused.map((a) => a.body.liveRunId))).toEqual(new Set([id]));
    const rows = await t.db.db.select().from(cliRuns).where(eq(cliRuns.instanceId, i.id));
    expect(rows).toHaveLength(1);
    await platform('POST', `/cli-runs/${id}/cancel`);
  });

  it('a controller failure after the row was written leaves a failed row, and the next start works', async () => {
    const i = await one();
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_start_cli_run', status: 400, times: 1 }],
    });
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'fix it' });
    expect(res.status).toBe(502);
    expect(res.body).toMatchObject({ type: '/problems/controller-failed' });
    const failed = await rowOf(res.body.runId);
    expect(failed).toMatchObject({ status: 'failed', instanceId: i.id, controllerRunId: null });
    expect(failed.lastError).toContain('HTTP 400');
    const next = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'fix it' });
    expect(next.status, JSON.stringify(next.body)).toBe(201);
    await settleRuns(t);
  });

  it('a start the controller made but answered 500 is looked up by its key: running, not failed, no orphan', async () => {
    const i = await one();
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_start_cli_run', status: 500, times: 1, phase: 'after' }],
    });
    const before = probe.calls.startCliRun ?? 0;
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    expect(res.body).toMatchObject({ status: 'running', lastError: null });
    // The second call was the look-up: the same Idempotency-Key, answered as a replay.
    expect(probe.calls.startCliRun).toBe(before + 2);
    const row = await rowOf(res.body.id);
    const target = { appName: row.appName, machineId: row.machineId, instanceId: row.instanceId };
    expect((await t.deps.controller.getCliRun(target, row.controllerRunId ?? '')).status).toBe(
      'running',
    );
    // Tracked: the instance is held by it, so the next start is refused naming it.
    const next = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'fix it' });
    expect(next).toMatchObject({ status: 409, body: { liveRunId: res.body.id } });
    await platform('POST', `/cli-runs/${res.body.id}/cancel`);
    await settleRuns(t);
  });

  it('a controller that forgets the run: failed with the reason, the output gathered so far kept', async () => {
    const i = await one();
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      // 1000 s is 10 s at the tests' time scale: still live when it is first followed.
      prompt: '#sim duration=1000s lines=100',
    });
    // Some output on the machine first (the run prints in the simulator's time).
    const row = await rowOf(res.body.id);
    const target = { appName: t.deps.config.fly.appName, machineId: i.machineId, instanceId: i.id };
    await expect
      .poll(
        async () =>
          (await t.deps.controller.getCliRun(target, row.controllerRunId ?? '')).outputSize,
        { interval: 10 },
      )
      .toBeGreaterThan(0);
    // The first poll is 2 s after the start; the queue rounds not-before up to the second.
    t.clock.advance(3_000);
    await t.deliverDue();
    const partway = await rowOf(res.body.id);
    expect(partway.status).toBe('running');
    expect(partway.outputSize).toBeGreaterThan(0);
    await flyFaults(t, { forget_runs: [i.machineId] });
    await settleRuns(t);
    const ended = await rowOf(res.body.id);
    expect(ended.status).toBe('failed');
    expect(ended.lastError).toContain('no longer knows this run');
    expect(ended.outputTail.length).toBeGreaterThan(0);
    expect(ended.outputTail.startsWith(partway.outputTail)).toBe(true);
  });

  it('a transient controller error keeps the run live and says so; the next poll carries on', async () => {
    const i = await one();
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=5s',
    });
    await flyFaults(t, { errors: [{ endpoint: 'controller_get_cli_run', status: 500, times: 1 }] });
    // The first poll is 2 s after the start; the queue rounds not-before up to the second.
    t.clock.advance(3_000);
    await t.deliverDue();
    const noted = await rowOf(res.body.id);
    expect(noted).toMatchObject({ status: 'running', followDelayMs: 4_000 });
    expect(noted.lastError).toContain('HTTP 500');
    await settleRuns(t);
    expect(await rowOf(res.body.id)).toMatchObject({ status: 'completed', lastError: null });
  });

  it('cancel of a run that already finished persists its terminal state without a cancel call', async () => {
    const i = await one();
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1s exit=2',
    });
    // 1 s at the 0.01 time scale: finished on the machine, not yet followed.
    const row = await rowOf(res.body.id);
    const target = { appName: t.deps.config.fly.appName, machineId: i.machineId, instanceId: i.id };
    await expect
      .poll(
        async () => (await t.deps.controller.getCliRun(target, row.controllerRunId ?? '')).status,
        { interval: 10 },
      )
      .toBe('failed');
    const before = probe.calls.cancelCliRun ?? 0;
    const cancel = await platform('POST', `/cli-runs/${res.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'failed', exitCode: 2 });
    expect(probe.calls.cancelCliRun ?? 0).toBe(before);
    expect((await rowOf(res.body.id)).outputSize).toBeGreaterThan(0);
    // Again: the ended run is answered as it is, with no controller call at all.
    const gets = probe.calls.getCliRun ?? 0;
    expect((await platform('POST', `/cli-runs/${res.body.id}/cancel`)).body.status).toBe('failed');
    expect(probe.calls.getCliRun).toBe(gets);
  });

  it('a cancel the controller refuses still cancels at once; the cancel is sent again until the controller confirms', async () => {
    const i = await one();
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    await flyFaults(t, {
      errors: [{ endpoint: 'controller_cancel_cli_run', status: 503, times: 1 }],
    });
    const cancelled = await platform('POST', `/cli-runs/${res.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body).toMatchObject({ status: 'cancelled', cleanup: 'pending' });
    expect(cancelled.body.lastError).toContain('has not confirmed it yet');
    const [inst] = await t.db.db.select().from(instances).where(eq(instances.id, i.id));
    expect(inst?.holdId).toBeNull();
    await settleRuns(t);
    const row = await rowOf(res.body.id);
    expect(row).toMatchObject({ status: 'cancelled', cleanup: 'confirmed' });
    const target = { appName: row.appName, machineId: row.machineId, instanceId: row.instanceId };
    expect((await t.deps.controller.getCliRun(target, row.controllerRunId ?? '')).status).toBe(
      'cancelled',
    );
    const events = await t.db.db
      .select({ type: instanceEvents.type })
      .from(instanceEvents)
      .where(eq(instanceEvents.instanceId, i.id));
    expect(events.map((e) => e.type)).toContain('cli_run_cancelled');
  });

  it('runs whose instance was destroyed since: found by id, followed and cancelled to an end', async () => {
    const [a, b] = await fleetOf(t, 2);
    if (!a || !b) throw new Error('no instances');
    const followed = await platform('POST', `/instances/${a.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    const cancelled = await platform('POST', `/instances/${b.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    const app = t.deps.config.fly.appName;
    for (const i of [a, b]) {
      await t.deps.fly.stopMachine(app, i.machineId);
      await t.db.db.update(instances).set({ status: 'destroyed' }).where(eq(instances.id, i.id));
    }
    for (const i of [a, b]) await stopped(i.machineId);
    const cancel = await platform('POST', `/cli-runs/${cancelled.body.id}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'failed' });
    expect(cancel.body.lastError).toContain('destroyed');
    await settleRuns(t);
    const row = await rowOf(followed.body.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('destroyed');
    expect((await platform('GET', `/cli-runs/${followed.body.id}`)).body.status).toBe('failed');
  });

  it('a run on a machine the instance has since left (a recovery) ends failed, saying so', async () => {
    const [i, other] = await fleetOf(t, 2);
    if (!i || !other) throw new Error('no instances');
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    await t.deps.fly.stopMachine(t.deps.config.fly.appName, i.machineId);
    // As recovery's cut-over does: the instance now lives on another machine.
    await t.db.db
      .update(instances)
      .set({ machineId: `${other.machineId}0` })
      .where(eq(instances.id, i.id));
    await stopped(i.machineId);
    await settleRuns(t);
    const row = await rowOf(res.body.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('moved to another machine');
  });

  it('past the maximum duration a run is cancelled on the instance and failed', async () => {
    const i = await one();
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h',
    });
    t.clock.advance(5 * 60_000 + 1_000);
    await settleRuns(t);
    const row = await rowOf(res.body.id);
    expect(row.status).toBe('failed');
    expect(row.lastError).toContain('maximum duration of 5 minutes');
    expect(row.lastError).toContain('cancelled on the instance');
    const target = { appName: row.appName, machineId: row.machineId, instanceId: row.instanceId };
    expect((await t.deps.controller.getCliRun(target, row.controllerRunId ?? '')).status).toBe(
      'cancelled',
    );
  });

  it('a starter that dies before the controller answers: the sweep hands the start to the follow, which sends it with the same key', async () => {
    const i = await one();
    const open = probe.holdNextStart();
    const pending = platform('POST', `/instances/${i.id}/cli-runs`, { prompt: '#sim duration=1h' });
    await open.reached;
    const [stuck] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.instanceId, i.id));
    expect(stuck?.status).toBe('starting');
    t.clock.advance(t.deps.config.work.leaseMs + 1_000);
    await sweeperOf(cliRunUnits).sweep(t.deps, t.clock.now());
    // The start may have reached the controller: never failed for it, looked up instead.
    const handed = await rowOf(stuck?.id ?? '');
    expect(handed).toMatchObject({ status: 'starting', claimToken: null });
    expect(handed.lastError).toContain('process handling the start stopped');
    await t.deliverDue();
    const started = await rowOf(stuck?.id ?? '');
    expect(started.status).toBe('running');
    // The stalled starter wakes up: its start (same key) is a replay of that run, so it
    // answers the run as it is and cancels nothing.
    const cancels = probe.calls.cancelCliRun ?? 0;
    open();
    const late = await pending;
    expect(late.status).toBe(201);
    expect(late.body).toMatchObject({ id: started.id, status: 'running' });
    expect(probe.calls.cancelCliRun ?? 0).toBe(cancels);
    const target = { appName: t.deps.config.fly.appName, machineId: i.machineId, instanceId: i.id };
    expect((await t.deps.controller.getCliRun(target, started.controllerRunId ?? '')).status).toBe(
      'running',
    );
    await platform('POST', `/cli-runs/${started.id}/cancel`);
    await settleRuns(t);
  });

  it('a lost follow doorbell is rung again by the sweep', async () => {
    const i = await one();
    dropFollowRings = true;
    const res = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1s',
    });
    dropFollowRings = false;
    t.clock.advance(40_000);
    await t.deliverDue();
    expect((await rowOf(res.body.id)).status).toBe('running');
    const counts = await sweeperOf(cliRunUnits).sweep(t.deps, t.clock.now());
    expect(counts.rerung).toBe(1);
    await settleRuns(t);
    expect((await rowOf(res.body.id)).status).toBe('completed');
  });
});
