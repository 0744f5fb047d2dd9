// Contract 1.1 (docs/controller-openapi.yaml): a CLI run's start is idempotent by its
// `Idempotency-Key`, in the simulator's controller and through the client, and every
// exchange is the documented operation with a documented answer.
import { describe, expect, it } from 'vitest';
import { createControllerClient } from '../../src/adapters/controller/client.ts';
import { ControllerError } from '../../src/adapters/controller/errors.ts';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { simulatorControllerUrlFor } from '../../src/dev-servers/fly-simulator/index.ts';
import { createTestApp, TEST_CONTROLLER_SECRET } from '../helpers/app.ts';
import {
  controllerContract,
  type Exchange,
  recordingFetch,
} from '../helpers/controller-contract.ts';
import { fleetOf, seedCatalog } from '../helpers/fleet.ts';
import { simControllerState } from '../helpers/sim-controller.ts';

describe("a CLI run's start with an Idempotency-Key (contract 1.1)", async () => {
  const t = await createTestApp();
  await seedCatalog(t);
  const app = t.deps.config.fly.appName;
  const base = simulatorControllerUrlFor(t.deps.config.fly.apiUrl);
  const prefix = new URL(base(app)).pathname;
  const contract = await controllerContract();
  const checked: number[] = [];
  /** Calls the simulator in-process and validates each exchange against the contract. */
  const recorded: Exchange[] = [];
  const record = recordingFetch(async (r) => t.app.fetch(r, IN_PROCESS_ENV), prefix, recorded);
  const validating: typeof fetch = async (input, init) => {
    const res = await record(input, init);
    const exchange = recorded.at(-1) as Exchange;
    const request = contract.checkRequest(exchange);
    expect(request.operationId, `${exchange.method} ${exchange.path}`).toBeTruthy();
    expect(request.errors).toEqual([]);
    expect(contract.checkResponse(exchange).errors).toEqual([]);
    checked.push(res.status);
    return res;
  };
  const c = createControllerClient({
    baseUrlFor: base,
    secret: TEST_CONTROLLER_SECRET,
    fetch: validating,
  });
  const [one] = await fleetOf(t, 1);
  if (!one) throw new Error('no fleet');
  const target = { appName: app, machineId: one.machineId, instanceId: one.id };

  it('a new key starts a run (201); the same key again names it (200) and starts nothing, even while it is live', async () => {
    const key = crypto.randomUUID();
    const first = await c.startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: key });
    expect(first.replayed).toBe(false);
    const again = await c.startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: key });
    expect(again).toMatchObject({ runId: first.runId, replayed: true });
    // Another key while it is live: 409 naming it (the replay is checked first).
    const other = await c
      .startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: crypto.randomUUID() })
      .catch((e: unknown) => e);
    expect(other).toBeInstanceOf(ControllerError);
    expect(other).toMatchObject({ kind: 'conflict', liveId: first.runId });
    // The same key with another prompt: 422, nothing started.
    const reused = await c
      .startCliRun(target, { prompt: 'something else', idempotencyKey: key })
      .catch((e: unknown) => e);
    expect(reused).toMatchObject({ kind: 'rejected', status: 422 });
    expect((reused as Error).message).toContain('idempotency_key_reused');
    const machine = (await simControllerState(t)).find((m) => m.machineId === one.machineId);
    expect(machine?.runs.map((r) => [r.runId, r.idempotencyKey])).toEqual([[first.runId, key]]);
    await c.cancelCliRun(target, first.runId);
    // Ended: the key still names it (200), and nothing starts.
    expect(
      await c.startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: key }),
    ).toMatchObject({ runId: first.runId, replayed: true });
    expect(
      (await simControllerState(t)).find((m) => m.machineId === one.machineId)?.runs,
    ).toHaveLength(1);
  });

  it('without a key a start is not idempotent (1.0 callers), and a restart forgets the keys', async () => {
    const a = await c.startCliRun(target, { prompt: '#sim duration=1s' });
    expect(a.replayed).toBe(false);
    await c.cancelCliRun(target, a.runId);
    const b = await c.startCliRun(target, { prompt: '#sim duration=1s' });
    expect(b.runId).not.toBe(a.runId);
    await c.cancelCliRun(target, b.runId);
    const key = crypto.randomUUID();
    const before = await c.startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: key });
    await t.deps.fly.restartMachine(app, one.machineId);
    await t.deps.fly.waitMachine(app, one.machineId, { state: 'started', timeoutSeconds: 10 });
    const after = await c.startCliRun(target, { prompt: '#sim duration=1h', idempotencyKey: key });
    expect(after).toMatchObject({ replayed: false });
    expect(after.runId).not.toBe(before.runId);
    await c.cancelCliRun(target, after.runId);
  });

  it('every exchange was a documented operation with a documented answer', () => {
    expect(new Set(checked)).toEqual(new Set([200, 201, 409, 422]));
  });
});
