import { eq, inArray, sql } from 'drizzle-orm';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  scheduledActionStages,
  scheduledActions,
  scheduledActionTargets,
} from '../../db/schema/index.ts';
import { createTestApp } from '../helpers/app.ts';
import { ringOperationNow, ringStageNow, sweepNow, userUpdates } from '../helpers/callbacks.ts';
import { makeApiKey } from '../helpers/factories.ts';
import { api, fleetOf, seedCatalog } from '../helpers/fleet.ts';

/** One thing that can happen to a rollout, drawn by fast-check. */
type Command =
  | { kind: 'deliver' }
  | { kind: 'ring_stage'; stage: number; message: number }
  | { kind: 'ring_operation'; target: number; message: number }
  | { kind: 'advance'; ms: number }
  | { kind: 'sweep' }
  | { kind: 'cancel_target'; target: number }
  | { kind: 'pause' }
  | { kind: 'resume' };

const TARGETS = 8;
const command: fc.Arbitrary<Command> = fc.oneof(
  { weight: 6, arbitrary: fc.constant({ kind: 'deliver' as const }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ring_stage' as const),
      stage: fc.integer({ min: 0, max: 1 }),
      // A small pool of message ids: duplicates of one delivery, and distinct ones.
      message: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('ring_operation' as const),
      target: fc.integer({ min: 0, max: TARGETS - 1 }),
      message: fc.integer({ min: 0, max: 3 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('advance' as const),
      ms: fc.integer({ min: 0, max: 70_000 }),
    }),
  },
  { weight: 2, arbitrary: fc.constant({ kind: 'sweep' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('cancel_target' as const),
      target: fc.integer({ min: 0, max: TARGETS - 1 }),
    }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'pause' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'resume' as const }) },
);
const scenario = fc.record({
  maxInFlight: fc.integer({ min: 1, max: 3 }),
  /** How often a Fly call or a publish crashes its handler while the commands run. */
  crashRate: fc.constantFrom(0.15, 0.35),
  /** The step before which the whole action is cancelled, if any. */
  cancelAt: fc.oneof(
    { weight: 3, arbitrary: fc.constant(null) },
    { weight: 1, arbitrary: fc.integer({ min: 10, max: 45 }) },
  ),
  commands: fc.array(command, { minLength: 25, maxLength: 45 }),
  /** Where crashes fall: each Fly call or publish draws the next number. */
  dice: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
    minLength: 64,
    maxLength: 64,
  }),
});

// A property over whole rollouts: random interleavings of duplicate, early and late
// doorbells, handlers that crash before or after a Fly call (the process dies: nothing
// after it runs), lost publishes, sweeps, pauses and cancels. After every step: no machine
// was updated twice, no stage has more than its maxInFlight running, and every counter
// equals the rows. At the end (crashes off, time moving): every target has ended, and a
// machine was updated exactly when its target was applied.
describe('scheduler property: no target applied twice, whatever happens', async () => {
  let crashRate = 0;
  let draw = () => 0.5;
  const crashes = () => crashRate > 0 && draw() < crashRate;
  const t = await createTestApp({
    serve: true,
    wrapFly: (fly) => {
      const wrapped = { ...fly };
      for (const name of ['getMachine', 'updateMachine', 'waitMachine'] as const) {
        const real = fly[name] as (...args: unknown[]) => Promise<unknown>;
        (wrapped as Record<string, unknown>)[name] = async (...args: unknown[]) => {
          if (crashes()) throw new Error(`crash before ${name}`);
          const result = await real(...args);
          if (crashes()) throw new Error(`crash after ${name}`);
          return result;
        };
      }
      return wrapped;
    },
    wrapDoorbells: (doorbells) => ({
      ...doorbells,
      async ring(item) {
        if (crashes()) throw new Error('publish lost');
        return doorbells.ring(item);
      },
      async ringMany(items) {
        if (crashes()) throw new Error('publish lost');
        return doorbells.ringMany(items);
      },
    }),
  });
  await seedCatalog(t);
  const call = api(t, (await makeApiKey(t, 'admin')).key);

  async function invariants(actionId: string, machines: Map<string, string>, maxInFlight: number) {
    const targets = await t.db.db
      .select()
      .from(scheduledActionTargets)
      .where(eq(scheduledActionTargets.actionId, actionId));
    for (const target of targets) {
      const updates = await userUpdates(t, machines.get(target.instanceId) ?? '');
      expect(updates, `instance ${target.instanceId} (${target.status})`).toBeLessThanOrEqual(1);
    }
    const stages = await t.db.db
      .select()
      .from(scheduledActionStages)
      .where(eq(scheduledActionStages.actionId, actionId));
    const [action] = await t.db.db
      .select()
      .from(scheduledActions)
      .where(eq(scheduledActions.id, actionId));
    const count = (rows: typeof targets, status: string) =>
      rows.filter((r) => r.status === status).length;
    for (const stage of stages) {
      const rows = targets.filter((r) => r.stageId === stage.id);
      expect(stage.running).toBeLessThanOrEqual(maxInFlight);
      for (const status of [
        'pending',
        'running',
        'applied',
        'skipped',
        'failed',
        'cancelled',
      ] as const)
        expect(stage[status], `stage ${stage.index} ${status}`).toBe(count(rows, status));
    }
    for (const status of ['applied', 'skipped', 'failed', 'cancelled'] as const)
      expect(action?.[status], `action ${status}`).toBe(count(targets, status));
    return targets;
  }

  it('holds over random rollouts', async () => {
    await fc.assert(
      fc.asyncProperty(
        scenario,
        async ({ maxInFlight, crashRate: rate, cancelAt, commands, dice }) => {
          let rolled = 0;
          draw = () => dice[rolled++ % dice.length] ?? 0.5;
          crashRate = 0;
          const fleet = await fleetOf(t, TARGETS);
          const machines = new Map(fleet.map((f) => [f.id, f.machineId]));
          const res = await call('POST', '/scheduled-actions', {
            actionType: 'restart',
            instances: { ids: fleet.map((f) => f.id) },
            runAt: 'now',
            reason: 'property',
            maxInFlight,
            rollout: { stages: [50, 100], intervalMinutes: 1 },
          });
          expect(res.status).toBe(201);
          const actionId = res.body.id as string;
          crashRate = rate;
          const stages = (
            await t.db.db
              .select({ id: scheduledActionStages.id })
              .from(scheduledActionStages)
              .where(eq(scheduledActionStages.actionId, actionId))
              .orderBy(scheduledActionStages.index)
          ).map((s) => s.id);
          const targetIds = async () =>
            await t.db.db
              .select({
                id: scheduledActionTargets.id,
                operationId: scheduledActionTargets.operationId,
              })
              .from(scheduledActionTargets)
              .where(eq(scheduledActionTargets.actionId, actionId))
              .orderBy(scheduledActionTargets.id);
          for (const [step, cmd] of commands.entries()) {
            if (cancelAt === step) await call('POST', `/scheduled-actions/${actionId}/cancel`);
            switch (cmd.kind) {
              case 'deliver':
                await t.deliverDue();
                break;
              case 'ring_stage':
                await ringStageNow(
                  t,
                  stages[cmd.stage] ?? stages[0] ?? '',
                  `msg_p_s${cmd.stage}_${cmd.message}`,
                );
                break;
              case 'ring_operation': {
                const op = (await targetIds())[cmd.target]?.operationId;
                if (op) await ringOperationNow(t, op, `msg_p_o${cmd.target}_${cmd.message}`);
                break;
              }
              case 'advance':
                t.clock.advance(cmd.ms);
                break;
              case 'sweep':
                await sweepNow(t);
                break;
              case 'cancel_target': {
                const id = (await targetIds())[cmd.target]?.id;
                if (id) await call('POST', `/scheduled-action-targets/${id}/cancel`);
                break;
              }
              case 'pause':
                await call('POST', `/scheduled-actions/${actionId}/pause`);
                break;
              case 'resume':
                await call('POST', `/scheduled-actions/${actionId}/resume`);
                break;
            }
            await invariants(actionId, machines, maxInFlight);
          }
          // Calm weather: no more crashes, the clock moves, the sweep runs, work ends.
          crashRate = 0;
          await call('POST', `/scheduled-actions/${actionId}/resume`);
          let open = TARGETS;
          for (let round = 0; round < 40 && open > 0; round++) {
            t.clock.advance(20_000);
            await sweepNow(t);
            await t.deliverDue();
            const [row] = await t.db.db
              .select({ n: sql<number>`count(*)::int` })
              .from(scheduledActionTargets)
              .where(
                sql`${scheduledActionTargets.actionId} = ${actionId} and ${inArray(scheduledActionTargets.status, ['pending', 'running'])}`,
              );
            open = row?.n ?? 0;
          }
          const targets = await invariants(actionId, machines, maxInFlight);
          expect(targets.filter((x) => x.status === 'pending' || x.status === 'running')).toEqual(
            [],
          );
          for (const target of targets) {
            const updates = await userUpdates(t, machines.get(target.instanceId) ?? '');
            if (target.status === 'applied') expect(updates).toBe(1);
            if (target.status === 'cancelled' || target.status === 'skipped')
              expect(updates).toBe(0);
          }
          const action = (await call('GET', `/scheduled-actions/${actionId}`)).body;
          expect(['completed', 'failed', 'cancelled']).toContain(action.status);
        },
      ),
      { numRuns: 10, endOnFailure: true, verbose: true },
    );
  }, 240_000);
});
