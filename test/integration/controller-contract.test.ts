// Conformance of the instance controller's client (src/adapters/controller) and of the Fly
// simulator's controller with our own contract, docs/controller-openapi.yaml, validated
// with openapi-backend (test/helpers/controller-contract.ts, which the reference
// controller's test, test/controller/, uses too).
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type ControllerClient,
  createControllerClient,
} from '../../src/adapters/controller/client.ts';
import { ControllerError } from '../../src/adapters/controller/errors.ts';
import { controllerToken } from '../../src/adapters/controller/token.ts';
import type { ControllerTarget } from '../../src/adapters/controller/types.ts';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { simulatorControllerUrlFor } from '../../src/dev-servers/fly-simulator/index.ts';
import { createTestApp, TEST_CONTROLLER_SECRET } from '../helpers/app.ts';
import {
  type ControllerContract,
  controllerContract,
  type Exchange,
  recordingFetch,
} from '../helpers/controller-contract.ts';
import { fleetOf, flyFaults, seedCatalog } from '../helpers/fleet.ts';

describe('the instance controller contract', async () => {
  const t = await createTestApp();
  await seedCatalog(t);
  const app = t.deps.config.fly.appName;
  const exchanges: Exchange[] = [];
  const base = simulatorControllerUrlFor(t.deps.config.fly.apiUrl);
  const prefix = new URL(base(app)).pathname;
  /** Calls the simulator in-process and records each exchange for validation. */
  const recording = recordingFetch(
    (request) =>
      // As a socket would: the client's timeout abandons the answer.
      new Promise<Response>((resolve, reject) => {
        request.signal.addEventListener('abort', () => reject(request.signal.reason));
        Promise.resolve(t.app.fetch(request, IN_PROCESS_ENV)).then(resolve, reject);
      }),
    prefix,
    exchanges,
  );
  const client = (over: { secret?: string; timeoutMs?: number } = {}): ControllerClient =>
    createControllerClient({
      baseUrlFor: base,
      secret: over.secret ?? TEST_CONTROLLER_SECRET,
      fetch: recording,
      timeoutMs: over.timeoutMs ?? 5_000,
    });
  const c = client();
  const [one, two] = await fleetOf(t, 2);
  if (!one || !two) throw new Error('no fleet');
  const target = (i: { id: string; machineId: string }): ControllerTarget => ({
    appName: app,
    machineId: i.machineId,
    instanceId: i.id,
  });
  const fails = async (p: Promise<unknown>) => {
    const error = await p.then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ControllerError);
    return error as ControllerError;
  };
  /** What a call ends in: `ok`, or the ControllerError's kind. */
  const outcome = (p: Promise<unknown>) =>
    p.then(
      () => 'ok',
      (e: unknown) => (e instanceof ControllerError ? e.kind : String(e)),
    );

  let contract: ControllerContract;
  beforeAll(async () => {
    contract = await controllerContract();
  });

  it('a run: starts, is live (409 names it), streams output, completes with its exit code', async () => {
    const started = await c.startCliRun(target(one), {
      // 120 s is 1.2 s at the tests' 0.01 time scale: long enough to still be live below.
      prompt: '#sim duration=120s exit=1 lines=50\nrepair the agent',
    });
    const second = await fails(c.startCliRun(target(one), { prompt: 'again' }));
    expect(second).toMatchObject({ kind: 'conflict', status: 409, liveId: started.runId });
    let status = await c.getCliRun(target(one), started.runId);
    expect(status.status).toBe('running');
    let offset = 0;
    let text = '';
    // Polled every 20 ms until it ends (the run's own clock decides when).
    for (const until = Date.now() + 15_000; status.status === 'running' && Date.now() < until; ) {
      const out = await c.getCliRunOutput(target(one), started.runId, offset);
      for (const chunk of out.chunks) {
        expect(chunk.offset).toBe(offset);
        text += chunk.text;
        offset += new TextEncoder().encode(chunk.text).length;
      }
      expect(out.nextOffset).toBe(offset);
      await new Promise((r) => setTimeout(r, 20));
      status = await c.getCliRun(target(one), started.runId);
    }
    const rest = await c.getCliRunOutput(target(one), started.runId, offset);
    text += rest.chunks.map((ch) => ch.text).join('');
    expect(rest.complete).toBe(true);
    expect(status).toMatchObject({ status: 'failed', exitCode: 1 });
    expect(status.endedAt).not.toBeNull();
    expect(text.trimEnd().split('\n')).toHaveLength(50);
    expect(status.outputSize).toBe(new TextEncoder().encode(text).length);
    // Ended: a cancel answers the terminal state unchanged.
    expect(await c.cancelCliRun(target(one), started.runId)).toMatchObject({ status: 'failed' });
  });

  it('a run without directives takes about 3 s (scaled), prints a few lines and exits 0', async () => {
    const { runId } = await c.startCliRun(target(two), { prompt: 'fix it' });
    await expect
      .poll(async () => (await c.getCliRun(target(two), runId)).status, { interval: 10 })
      .not.toBe('running');
    const status = await c.getCliRun(target(two), runId);
    expect(status).toMatchObject({ status: 'completed', exitCode: 0 });
    expect(status.outputSize).toBeGreaterThan(0);
  });

  it('cancel ends a live run; an unknown run is 404; a bad directive is 400', async () => {
    const { runId } = await c.startCliRun(target(one), { prompt: '#sim duration=1h' });
    expect(await c.cancelCliRun(target(one), runId)).toMatchObject({
      status: 'cancelled',
      exitCode: null,
    });
    expect(await fails(c.getCliRun(target(one), 'no-such-run'))).toMatchObject({
      kind: 'not_found',
      status: 404,
    });
    expect(await fails(c.getCliRunOutput(target(one), 'no-such-run', 0))).toMatchObject({
      kind: 'not_found',
    });
    expect(await fails(c.cancelCliRun(target(one), 'no-such-run'))).toMatchObject({
      kind: 'not_found',
    });
    const bad = await fails(c.startCliRun(target(one), { prompt: '#sim durration=1s' }));
    expect(bad).toMatchObject({ kind: 'rejected', status: 400 });
    expect(bad.message).toContain('unknown directive');
  });

  it('sessions: one per Idempotency-Key (a repeat is a 200 replay), any number per agent', async () => {
    const key = crypto.randomUUID();
    const ask = { agentId: 'digest', prompt: '#sim duration=1h', trigger: 'cron' } as const;
    const s = await c.startSession(target(two), { ...ask, idempotencyKey: key });
    expect(s).toMatchObject({ agentId: 'digest', trigger: 'cron', endedAt: null, replayed: false });
    expect(exchanges.at(-1)).toMatchObject({ status: 201 });
    expect(exchanges.at(-1)?.headers['idempotency-key']).toBe(key);
    // The same key again: the same session, nothing started.
    const again = await c.startSession(target(two), { ...ask, idempotencyKey: key });
    expect(again).toMatchObject({ sessionId: s.sessionId, replayed: true });
    expect(exchanges.at(-1)).toMatchObject({ status: 200 });
    // Another key for the same agent while the first is live: a second live session.
    const other = await c.startSession(target(two), {
      ...ask,
      trigger: 'api',
      idempotencyKey: crypto.randomUUID(),
    });
    expect(other).toMatchObject({ agentId: 'digest', endedAt: null, replayed: false });
    expect(other.sessionId).not.toBe(s.sessionId);
    expect((await c.getSession(target(two), other.sessionId)).endedAt).toBeNull();
    expect((await c.getSession(target(two), s.sessionId)).endedAt).toBeNull();
    // A key reused with another body is refused and starts nothing.
    expect(
      await fails(c.startSession(target(two), { ...ask, prompt: 'x', idempotencyKey: key })),
    ).toMatchObject({ kind: 'rejected', status: 422 });
    // No key at all is 400 (sent by hand: the client always sends one; not recorded, as it
    // is deliberately outside the contract).
    const bare = await t.app.fetch(
      new Request(`${base(app)}/_controller/sessions`, {
        method: 'POST',
        headers: {
          Authorization: `Bearer ${await controllerToken(TEST_CONTROLLER_SECRET, two.id)}`,
          'fly-force-instance-id': two.machineId,
          'Content-Type': 'application/json',
        },
        body: JSON.stringify(ask),
      }),
      IN_PROCESS_ENV,
    );
    expect(bare.status).toBe(400);
    expect(await bare.json()).toMatchObject({ error: 'invalid_request' });
    expect(await c.cancelSession(target(two), other.sessionId)).toMatchObject({
      status: 'cancelled',
    });
    expect(['creating', 'ready']).toContain((await c.getSession(target(two), s.sessionId)).status);
    expect(await c.cancelSession(target(two), s.sessionId)).toMatchObject({ status: 'cancelled' });
    const quick = await c.startSession(target(two), {
      agentId: 'digest',
      prompt: '#sim duration=1s',
      trigger: 'manual',
      idempotencyKey: crypto.randomUUID(),
    });
    await expect
      .poll(async () => (await c.getSession(target(two), quick.sessionId)).status, {
        interval: 10,
      })
      .not.toMatch(/^(creating|ready)$/);
    expect(await c.getSession(target(two), quick.sessionId)).toMatchObject({
      status: 'completed',
    });
    expect(await fails(c.getSession(target(two), 'nope'))).toMatchObject({ kind: 'not_found' });
    expect(await fails(c.cancelSession(target(two), 'nope'))).toMatchObject({
      kind: 'not_found',
    });
  });

  it('the token is HMAC-SHA-256 of the instance id: another secret or instance is 401', async () => {
    const header = exchanges.find((ex) => ex.headers.authorization)?.headers.authorization;
    expect(header).toMatch(/^Bearer [0-9a-f]{64}$/);
    expect(
      await fails(client({ secret: 'another-secret' }).getCliRun(target(one), 'x')),
    ).toMatchObject({
      kind: 'unauthorized',
      status: 401,
    });
    // Machine two's token on machine one's controller.
    expect(await fails(c.getCliRun({ ...target(one), instanceId: two.id }, 'x'))).toMatchObject({
      kind: 'unauthorized',
    });
    // The token is the documented derivation (a test vector from Node's own HMAC).
    const { createHmac } = await import('node:crypto');
    expect(await controllerToken('key', 'instance')).toBe(
      createHmac('sha256', 'key').update('instance').digest('hex'),
    );
  });

  it('faults: 5xx and 409 through the fault endpoint, a timeout, a controller that forgets, a stopped machine', async () => {
    await flyFaults(t, {
      errors: [
        { endpoint: 'controller_get_cli_run', status: 500, times: 1 },
        { endpoint: 'controller_start_cli_run', status: 409, times: 1 },
      ],
    });
    expect(await fails(c.getCliRun(target(two), 'x'))).toMatchObject({
      kind: 'server',
      status: 500,
    });
    expect(await fails(c.startCliRun(target(two), { prompt: 'x' }))).toMatchObject({
      kind: 'conflict',
      liveId: null,
    });
    const { runId } = await c.startCliRun(target(two), { prompt: '#sim duration=1h' });
    await flyFaults(t, { forget_runs: [two.machineId] });
    expect(await fails(c.getCliRun(target(two), runId))).toMatchObject({ kind: 'not_found' });
    // 10 s of latency is 100 ms at the tests' 0.01 time scale; this client waits 20 ms.
    const latencyMs = 10_000;
    await flyFaults(t, { latency: [{ endpoint: 'controller_get_cli_run', ms: latencyMs }] });
    const sentAt = Date.now();
    const slow = await fails(client({ timeoutMs: 20 }).getCliRun(target(two), runId));
    expect(slow).toMatchObject({ kind: 'timeout', status: 0 });
    // Let the abandoned request finish on the simulator's side (its latency on the
    // simulator's clock, and a margin) before going on.
    const doneBy = sentAt + latencyMs * t.flyTimeScale + 50;
    await new Promise((r) => setTimeout(r, Math.max(0, doneBy - Date.now())));
    await flyFaults(t, null);
    await t.deps.fly.stopMachine(app, two.machineId);
    expect(await fails(c.getCliRun(target(two), runId))).toMatchObject({
      kind: 'unreachable',
      status: 503,
    });
  });

  it('a restart forgets every run, session and idempotency key (the controller restarts with its machine)', async () => {
    const { runId } = await c.startCliRun(target(one), { prompt: '#sim duration=1h' });
    const ask = {
      agentId: 'digest',
      prompt: '#sim duration=1h',
      trigger: 'cron',
      idempotencyKey: crypto.randomUUID(),
    } as const;
    const before = await c.startSession(target(one), ask);
    await t.deps.fly.restartMachine(app, one.machineId);
    // The controller forgets them when the machine restarts (in the simulator's time).
    await expect
      .poll(() => outcome(c.getCliRun(target(one), runId)), { interval: 10 })
      .toBe('not_found');
    expect(await fails(c.getCliRun(target(one), runId))).toMatchObject({ kind: 'not_found' });
    expect(await fails(c.getSession(target(one), before.sessionId))).toMatchObject({
      kind: 'not_found',
    });
    const after = await c.startSession(target(one), ask);
    expect(after).toMatchObject({ replayed: false });
    expect(after.sessionId).not.toBe(before.sessionId);
  });

  it('every request is a documented operation with valid parameters, headers and body', () => {
    const ops = new Set<string>();
    for (const ex of exchanges) {
      const { operationId, errors } = contract.checkRequest(ex);
      expect(operationId, `${ex.method} ${ex.path}`).toBeTruthy();
      ops.add(operationId ?? '');
      expect(errors, `${ex.method} ${ex.path}`).toEqual([]);
    }
    expect([...ops].sort()).toEqual(
      [
        'startCliRun',
        'getCliRun',
        'getCliRunOutput',
        'cancelCliRun',
        'startSession',
        'getSession',
        'cancelSession',
      ].sort(),
    );
  });

  it('every answer matches the schema documented for its status', () => {
    const statuses = new Set<number>();
    for (const ex of exchanges) {
      const { documented, errors } = contract.checkResponse(ex);
      statuses.add(ex.status);
      expect(documented, `${ex.method} ${ex.path} → ${ex.status}`).toBeTruthy();
      expect(errors, `${ex.method} ${ex.path} → ${ex.status}`).toEqual([]);
    }
    expect([...statuses].sort()).toEqual([200, 201, 400, 401, 404, 409, 422, 500, 503]);
  });

  it('the check has teeth: a wrong body and an undocumented path fail', () => {
    const { api } = contract;
    const operation = api.router.matchOperation({
      method: 'get',
      path: '/_controller/cli-runs/x',
      headers: {},
    });
    expect(operation).toBeTruthy();
    const wrong = api.validator.validateResponse(
      { runId: 'x', status: 'exploded', exitCode: '0' },
      operation as never,
      200,
    );
    expect(wrong.valid).toBe(false);
    expect(
      api.router.matchOperation({ method: 'delete', path: '/_controller/cli-runs/x', headers: {} }),
    ).toBeFalsy();
    // A session start without its Idempotency-Key is outside the contract.
    const started = exchanges.find((ex) => ex.path === '/_controller/sessions');
    if (!started) throw new Error('no session start recorded');
    const { 'idempotency-key': _key, ...headers } = started.headers;
    const unkeyed = { method: 'post', path: started.path, headers, body: started.body };
    const op = api.router.matchOperation(unkeyed);
    expect(op).toBeTruthy();
    expect(api.validator.validateRequest(unkeyed, op as never).valid).toBe(false);
    expect(
      api.validator.validateRequest({ ...unkeyed, headers: started.headers }, op as never).valid,
    ).toBe(true);
  });
});
