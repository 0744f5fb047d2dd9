// The reference controller keeps its runs and sessions in files: killed (SIGKILL) mid-run
// and started again on the same data folder, it reports the run it left live `failed` with
// the reason (and stops what was left of its process group), still serves finished runs
// with their output, and still knows their Idempotency-Keys. A run past its maximum
// duration is stopped and `failed` too. Every exchange is checked against the contract.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControllerContract, controllerContract } from '../helpers/controller-contract.ts';
import type { Running } from '../helpers/process.ts';
import {
  type ControllerWorld,
  controllerWorld,
  ended,
  groupMembers,
  lastAnswer,
  outputMatching,
  readAllOutput,
} from '../helpers/reference-controller.ts';

describe('the reference controller across a restart', () => {
  let w: ControllerWorld;
  let contract: ControllerContract;
  let proc: Running | undefined;
  beforeAll(async () => {
    [w, contract] = await Promise.all([controllerWorld(), controllerContract()]);
  });
  afterAll(async () => {
    await proc?.stop();
  });

  it('a run live when the controller died is failed with the reason; finished ones keep their output and keys', async () => {
    proc = await w.start();
    const go = join(w.dir, 'go');
    writeFileSync(go, '');
    const doneKey = crypto.randomUUID();
    const done = await w.client.startCliRun(w.target, {
      prompt: `stream ${go}`,
      idempotencyKey: doneKey,
    });
    expect(await ended(w, done.runId)).toMatchObject({ status: 'completed', exitCode: 0 });
    const liveKey = crypto.randomUUID();
    const live = await w.client.startCliRun(w.target, { prompt: 'wait', idempotencyKey: liveKey });
    const pgid = Number((await outputMatching(w, live.runId, /pgid (\d+)/))[1]);
    const session = await w.client.startSession(w.target, {
      agentId: 'argv-agent',
      prompt: 'hold',
      trigger: 'api',
      idempotencyKey: crypto.randomUUID(),
    });

    proc.child.kill('SIGKILL');
    await proc.exited;
    // Its own process group outlives the controller…
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(2);
    proc = await w.start();
    // …until the next controller, which stops it before it answers anything.
    expect(groupMembers(pgid)).toEqual([]);

    expect(await w.client.getCliRun(w.target, live.runId)).toMatchObject({
      status: 'failed',
      exitCode: null,
    });
    const reason = 'the controller restarted while this CLI run was live; its process was stopped';
    expect(lastAnswer(w, `/_controller/cli-runs/${live.runId}`)).toMatchObject({ reason });
    expect((await readAllOutput(w, live.runId)).text).toBe(
      `pgid ${pgid}\n[fleetwarden-controller] ${reason}\n`,
    );
    expect(await w.client.getSession(w.target, session.sessionId)).toMatchObject({
      status: 'failed',
    });
    expect(lastAnswer(w, `/_controller/sessions/${session.sessionId}`)).toMatchObject({
      reason: 'the controller restarted while this session was live; its process was stopped',
    });

    expect(await w.client.getCliRun(w.target, done.runId)).toMatchObject({
      status: 'completed',
      exitCode: 0,
      outputSize: 21,
    });
    expect((await readAllOutput(w, done.runId)).text).toBe('line 1\nline 2\nline 3\n');
    expect(
      await w.client.startCliRun(w.target, { prompt: `stream ${go}`, idempotencyKey: doneKey }),
    ).toEqual({
      ...done,
      replayed: true,
    });
    expect(
      await w.client.startCliRun(w.target, { prompt: 'wait', idempotencyKey: liveKey }),
    ).toEqual({
      ...live,
      replayed: true,
    });
  });

  it('a run past its maximum duration is stopped, group and all, and failed with the reason', async () => {
    await proc?.stop();
    proc = await w.start({ FLEETWARDEN_CONTROLLER_CLI_MAX_DURATION_SECONDS: '0.5' });
    const { runId } = await w.client.startCliRun(w.target, { prompt: 'wait' });
    const pgid = Number((await outputMatching(w, runId, /pgid (\d+)/))[1]);
    expect(await ended(w, runId)).toMatchObject({ status: 'failed', exitCode: null });
    expect(lastAnswer(w, `/_controller/cli-runs/${runId}`)).toMatchObject({
      reason: 'ran past its maximum duration of 0.5 s and was stopped',
    });
    await readAllOutput(w, runId);
    expect(groupMembers(pgid)).toEqual([]);
  });

  it('a controller stopped with SIGTERM fails what is live, saying so, and leaves no process', async () => {
    const { runId } = await w.client.startCliRun(w.target, { prompt: 'wait' });
    const pgid = Number((await outputMatching(w, runId, /pgid (\d+)/))[1]);
    expect(await proc?.stop()).toBe(0);
    expect(groupMembers(pgid)).toEqual([]);
    proc = await w.start();
    expect(await w.client.getCliRun(w.target, runId)).toMatchObject({ status: 'failed' });
    expect(lastAnswer(w, `/_controller/cli-runs/${runId}`)).toMatchObject({
      reason: 'the controller stopped (SIGTERM) while this CLI run was live',
    });
  });

  it('every exchange is a documented operation, answered with the schema for its status', () => {
    for (const ex of w.exchanges) {
      const request = contract.checkRequest(ex);
      expect(request.operationId, `${ex.method} ${ex.path}`).toBeTruthy();
      expect(request.errors, `${ex.method} ${ex.path}`).toEqual([]);
      const response = contract.checkResponse(ex);
      expect(response.documented, `${ex.method} ${ex.path} → ${ex.status}`).toBeTruthy();
      expect(response.errors, `${ex.method} ${ex.path} → ${ex.status}`).toEqual([]);
    }
  });
});
