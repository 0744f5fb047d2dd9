// Defect 1 of issue 18: a CLI run on a machine that stopped behind our back kept its
// instance held (and down) until CLI_RUN_MAX_MINUTES. A hold never outlives the machine it
// protects (docs/seams.md): the next reconcile ends the run and begins the recovery; a
// cancel at that moment succeeds at once; sessions on the machine end with it too.
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { agentSessions, cliRuns, instances } from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { caller, settleRuns } from '../helpers/cli-runs.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { flyFaults, provisioned, seedCatalog } from '../helpers/fleet.ts';
import { recoveriesOfInstance, ringReconcile, settleRecoveries } from '../helpers/recovery.ts';
import { simControllerOf } from '../helpers/sim-controller.ts';

describe('a machine that stops behind our back ends the work held on it', async () => {
  const t = await createTestApp({ serve: true });
  await seedCatalog(t);
  const admin = caller(t, 'admin', (await makeApiKey(t, 'admin')).key);
  const platform = caller(t, 'platform', (await makeApiKey(t, 'platform')).key);
  const runRow = async (id: string) => {
    const [row] = await t.db.db.select().from(cliRuns).where(eq(cliRuns.id, id));
    if (!row) throw new Error('no run');
    return row;
  };
  const instanceRow = async (id: string) => {
    const [row] = await t.db.db.select().from(instances).where(eq(instances.id, id));
    if (!row) throw new Error('no instance');
    return row;
  };
  const liveRunOn = async () => {
    const i = await provisioned(t, admin);
    const run = await platform('POST', `/instances/${i.id}/cli-runs`, {
      prompt: '#sim duration=1h\nrepair the agent',
    });
    expect(run.status, JSON.stringify(run.body)).toBe(201);
    expect(run.body.status).toBe('running');
    return { i, runId: run.body.id as string };
  };

  it('the next reconcile ends the run failed with the reason and begins the recovery in the same run', async () => {
    const { i, runId } = await liveRunOn();
    await flyFaults(t, { stop_machines: [{ machine_id: i.machineId }] });
    const reconcile = await ringReconcile(t);
    expect(reconcile.body).toMatchObject({ diverged: 1, recoveriesStarted: 1 });
    const run = await runRow(runId);
    expect(run).toMatchObject({ status: 'failed', cleanup: null, claimToken: null });
    expect(run.lastError).toContain(`its machine ${i.machineId} stopped`);
    expect(run.endedAt).not.toBeNull();
    expect(await recoveriesOfInstance(t, i.id)).toHaveLength(1);
    const held = await instanceRow(i.id);
    expect(held).toMatchObject({ status: 'recovering', holdId: null });
    // The recovery goes on to the end, and the instance takes a new run.
    await settleRecoveries(t);
    expect((await instanceRow(i.id)).status).toBe('running');
    const next = await platform('POST', `/instances/${i.id}/cli-runs`, { prompt: 'x' });
    expect(next.status, JSON.stringify(next.body)).toBe(201);
    await settleRuns(t);
  });

  it('an admin cancel at that moment answers 2xx at once: the run is cancelled and the instance released', async () => {
    const { i, runId } = await liveRunOn();
    await flyFaults(t, { stop_machines: [{ machine_id: i.machineId }] });
    const cancel = await admin('POST', `/cli-runs/${runId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ id: runId, status: 'cancelled', cleanup: null });
    // Fly says the machine stopped: nothing of the run is live, nothing is owed.
    expect(cancel.body.lastError).toContain('nothing of it was live');
    expect((await instanceRow(i.id)).holdId).toBeNull();
    expect((await ringReconcile(t)).body).toMatchObject({ recoveriesStarted: 1 });
    await settleRecoveries(t);
  });

  it("a user's cancel at that moment answers 2xx too, never 502", async () => {
    const { i, runId } = await liveRunOn();
    await flyFaults(t, { stop_machines: [{ machine_id: i.machineId }] });
    const cancel = await platform('POST', `/cli-runs/${runId}/cancel`);
    expect(cancel.status).toBe(200);
    expect(cancel.body).toMatchObject({ status: 'cancelled' });
    expect((await ringReconcile(t)).body).toMatchObject({ recoveriesStarted: 1 });
    await settleRecoveries(t);
  });

  it('without a reconcile, the next follow poll asks Fly, which reports the machine stopped, and ends the run', async () => {
    const { i, runId } = await liveRunOn();
    await flyFaults(t, { stop_machines: [{ machine_id: i.machineId }] });
    t.clock.advance(3_000);
    await t.deliverDue();
    const run = await runRow(runId);
    expect(run.status).toBe('failed');
    expect(run.lastError).toContain(`Fly reports machine ${i.machineId} stopped`);
    expect((await instanceRow(i.id)).holdId).toBeNull();
    expect((await ringReconcile(t)).body).toMatchObject({ recoveriesStarted: 1 });
    await settleRecoveries(t);
  });

  it('a host that stays unreachable: the run ends at the reconcile with its cancel owed, until Fly reports the machine gone', async () => {
    const { i, runId } = await liveRunOn();
    await flyFaults(t, { unreachable: { machine_ids: [i.machineId] } });
    const reconcile = await ringReconcile(t);
    expect(reconcile.body).toMatchObject({ recoveriesStarted: 1 });
    const run = await runRow(runId);
    expect(run).toMatchObject({ status: 'failed', cleanup: 'pending' });
    expect(run.lastError).toContain('stayed unreachable');
    expect((await instanceRow(i.id)).holdId).toBeNull();
    // The owed cancel meets a 503; Fly reports the machine stopped: nothing is live.
    await t.deliverDue();
    expect((await runRow(runId)).cleanup).toBe('machine_gone');
    await flyFaults(t, null);
    await settleRecoveries(t);
  });

  it('a session whose machine stopped ends failed (machine_lost) at the same reconcile', async () => {
    const i = await provisioned(t, admin);
    const agent = await admin('POST', '/agents', {
      instanceId: i.id,
      name: `digest-${crypto.randomUUID().slice(0, 8)}`,
      prompt: '#sim duration=1h\nSummarise the inbox.',
    });
    expect(agent.status, JSON.stringify(agent.body)).toBe(201);
    const started = await admin('POST', `/agents/${agent.body.id}/run`);
    expect(started.status, JSON.stringify(started.body)).toBe(202);
    expect(['creating', 'ready']).toContain(started.body.status);
    expect((await simControllerOf(t, i.machineId)).sessions).toHaveLength(1);
    await flyFaults(t, { stop_machines: [{ machine_id: i.machineId }] });
    expect((await ringReconcile(t)).body).toMatchObject({ recoveriesStarted: 1 });
    const [session] = await t.db.db
      .select()
      .from(agentSessions)
      .where(eq(agentSessions.agentId, agent.body.id));
    expect(session).toMatchObject({ status: 'failed', reason: 'machine_lost', claimToken: null });
    expect(session?.lastError).toContain(`its machine ${i.machineId} stopped`);
    await settleRecoveries(t);
  });
});
