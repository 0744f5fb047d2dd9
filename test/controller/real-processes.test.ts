// The reference instance controller (controller/) running real commands, driven over HTTP
// through our client: output streams by byte offset, exit codes, a 5 MB output complete,
// a cancel that ends the whole process group (SIGKILL after the grace period when SIGTERM
// is ignored), one live run (409 names it), Idempotency-Key replays and 422, the token,
// sessions per agent command; every exchange is checked against docs/controller-openapi.yaml.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ControllerError } from '../../src/adapters/controller/errors.ts';
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

const fails = async (p: Promise<unknown>) => {
  const error = await p.then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ControllerError);
  return error as ControllerError;
};

describe('the reference controller with real processes', () => {
  let w: ControllerWorld;
  let proc: Running;
  let contract: ControllerContract;
  beforeAll(async () => {
    [w, contract] = await Promise.all([controllerWorld(), controllerContract()]);
    proc = await w.start();
  });
  afterAll(async () => {
    await proc?.stop();
  });

  it('streams a command’s stdout and stderr live, by byte offset, and ends with exit code 0', async () => {
    const go = join(w.dir, 'go-stream');
    const { runId } = await w.client.startCliRun(w.target, { prompt: `stream ${go}` });
    // All three lines are served while the command still runs (it waits for `go`).
    await outputMatching(w, runId, /line 1\nline 2\nline 3\n/);
    expect((await w.client.getCliRun(w.target, runId)).status).toBe('running');
    const live = await w.client.getCliRunOutput(w.target, runId, 7);
    expect(live).toMatchObject({
      complete: false,
      chunks: [{ offset: 7, text: 'line 2\nline 3\n' }],
    });
    writeFileSync(go, '');
    const run = await ended(w, runId);
    expect(run).toMatchObject({ status: 'completed', exitCode: 0, outputSize: 21 });
    expect(run.endedAt).not.toBeNull();
    expect(await readAllOutput(w, runId)).toMatchObject({
      text: 'line 1\nline 2\nline 3\n',
      bytes: 21,
    });
  });

  it('reports exit code 3 as failed, and the command never sees the controller’s token', async () => {
    const { runId } = await w.client.startCliRun(w.target, { prompt: 'exit-3' });
    expect(await ended(w, runId)).toMatchObject({ status: 'failed', exitCode: 3 });
    const { text } = await readAllOutput(w, runId);
    expect(text).toBe(`token=none run=${runId}\n`);
    expect(lastAnswer(w, `/_controller/cli-runs/${runId}`)).toMatchObject({
      reason: 'exited with code 3',
    });
  });

  it('serves a 5 MB output completely, page by page, each page whole characters', async () => {
    const { runId } = await w.client.startCliRun(w.target, { prompt: 'five-mb' });
    const { text, bytes, pages } = await readAllOutput(w, runId);
    const line = 'héllo wörld ✓ 0123456789abcd\n';
    expect(bytes).toBe(158_888 * 33);
    expect(pages).toBeGreaterThanOrEqual(Math.ceil(bytes / 65_536));
    expect(text.length).toBe(158_888 * line.length);
    expect(text.split('\n').filter((l) => `${l}\n` !== line)).toEqual(['']);
    expect(await ended(w, runId)).toMatchObject({
      status: 'completed',
      exitCode: 0,
      outputSize: bytes,
    });
  });

  it('one live run: a start while it runs is 409 naming it; its key replays (200), another prompt is 422', async () => {
    const key = crypto.randomUUID();
    const first = await w.client.startCliRun(w.target, { prompt: 'wait', idempotencyKey: key });
    expect(first.replayed).toBe(false);
    const conflict = await fails(w.client.startCliRun(w.target, { prompt: 'exit-3' }));
    expect(conflict).toMatchObject({ kind: 'conflict', status: 409, liveId: first.runId });
    // The key is looked at before the live run: a replay, nothing started.
    const again = await w.client.startCliRun(w.target, { prompt: 'wait', idempotencyKey: key });
    expect(again).toEqual({ ...first, replayed: true });
    const reused = await fails(
      w.client.startCliRun(w.target, { prompt: 'exit-3', idempotencyKey: key }),
    );
    expect(reused).toMatchObject({ kind: 'rejected', status: 422 });
    const pgid = Number((await outputMatching(w, first.runId, /pgid (\d+)/))[1]);
    expect(await w.client.cancelCliRun(w.target, first.runId)).toMatchObject({
      status: 'cancelled',
      exitCode: null,
    });
    await expect.poll(() => groupMembers(pgid), { interval: 20, timeout: 10_000 }).toEqual([]);
    // Ended: the key still names it, and a cancel answers its status unchanged.
    expect(await w.client.startCliRun(w.target, { prompt: 'wait', idempotencyKey: key })).toEqual({
      ...first,
      replayed: true,
    });
    expect(await w.client.cancelCliRun(w.target, first.runId)).toMatchObject({
      status: 'cancelled',
    });
  });

  it('cancel ends the whole process group: SIGTERM ignored, SIGKILL after the grace period', async () => {
    const { runId } = await w.client.startCliRun(w.target, { prompt: 'ignore-term' });
    const pgid = Number((await outputMatching(w, runId, /pgid (\d+)/))[1]);
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(2);
    expect(await w.client.cancelCliRun(w.target, runId)).toMatchObject({ status: 'cancelled' });
    // The cancel answers at once; the group ignored SIGTERM and is still there within the
    // 1 s grace period, then SIGKILL leaves no process of it.
    expect(groupMembers(pgid).length).toBeGreaterThanOrEqual(1);
    await expect.poll(() => groupMembers(pgid), { interval: 20, timeout: 10_000 }).toEqual([]);
    const { text } = await readAllOutput(w, runId);
    expect(text).toBe(`pgid ${pgid}\n[fleetwarden-controller] cancelled by the control plane\n`);
    expect(await w.client.getCliRun(w.target, runId)).toMatchObject({
      status: 'cancelled',
      exitCode: null,
    });
  });

  it('refuses a wrong or missing token (401), an unknown run (404) and a malformed start (400)', async () => {
    expect(await fails(w.wrongClient.getCliRun(w.target, 'x'))).toMatchObject({
      kind: 'unauthorized',
      status: 401,
    });
    const bare = await fetch(`${w.url()}/_controller/cli-runs/x`);
    expect(bare.status).toBe(401);
    expect(await bare.json()).toMatchObject({ error: 'unauthorized' });
    expect(await fails(w.client.getCliRun(w.target, 'no-such-run'))).toMatchObject({
      kind: 'not_found',
    });
    expect(await fails(w.client.getCliRunOutput(w.target, 'no-such-run', 0))).toMatchObject({
      kind: 'not_found',
    });
    expect(await fails(w.client.cancelCliRun(w.target, 'no-such-run'))).toMatchObject({
      kind: 'not_found',
    });
    // A body outside the contract (sent by hand, so not recorded for the contract check).
    const empty = await fetch(`${w.url()}/_controller/cli-runs`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${w.token}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ prompt: '', extra: 1 }),
    });
    expect(empty.status).toBe(400);
    expect(await empty.json()).toMatchObject({ error: 'invalid_request' });
    // The health check needs no token.
    expect(await (await fetch(`${w.url()}/healthz`)).json()).toMatchObject({ status: 'ok' });
  });

  it('sessions: the agent’s command gets the prompt (argv, stdin or a file); a key replays, another body is 422', async () => {
    const prompt = `quick; echo pwned $(id) 'x' "y"`;
    const logOf = (id: string) => join(w.dir, 'data', 'sessions', `${id}.log`);
    for (const agentId of ['argv-agent', 'stdin-agent', 'file-agent']) {
      const key = crypto.randomUUID();
      const s = await w.client.startSession(w.target, {
        agentId,
        prompt,
        trigger: 'cron',
        idempotencyKey: key,
      });
      expect(s).toMatchObject({ agentId, trigger: 'cron', replayed: false });
      await expect
        .poll(async () => (await w.client.getSession(w.target, s.sessionId)).status, {
          interval: 20,
          timeout: 10_000,
        })
        .toBe('completed');
      expect(existsSync(logOf(s.sessionId)) && readFileSync(logOf(s.sessionId), 'utf8')).toBe(
        `prompt: ${prompt}\nagent=${agentId} trigger=cron\n`,
      );
      const again = await w.client.startSession(w.target, {
        agentId,
        prompt,
        trigger: 'cron',
        idempotencyKey: key,
      });
      expect(again).toMatchObject({ sessionId: s.sessionId, status: 'completed', replayed: true });
      expect(
        await fails(
          w.client.startSession(w.target, { agentId, prompt, trigger: 'api', idempotencyKey: key }),
        ),
      ).toMatchObject({ kind: 'rejected', status: 422 });
    }
    // Any number at once per agent; a cancel ends one and is idempotent.
    const ask = { agentId: 'argv-agent', prompt: 'hold', trigger: 'manual' } as const;
    const a = await w.client.startSession(w.target, {
      ...ask,
      idempotencyKey: crypto.randomUUID(),
    });
    const b = await w.client.startSession(w.target, {
      ...ask,
      idempotencyKey: crypto.randomUUID(),
    });
    expect([a.status, b.status]).toEqual(['ready', 'ready']);
    expect(await w.client.cancelSession(w.target, a.sessionId)).toMatchObject({
      status: 'cancelled',
    });
    expect(await w.client.getSession(w.target, b.sessionId)).toMatchObject({
      status: 'ready',
      endedAt: null,
    });
    expect(await w.client.cancelSession(w.target, b.sessionId)).toMatchObject({
      status: 'cancelled',
    });
    expect(await w.client.cancelSession(w.target, a.sessionId)).toMatchObject({
      status: 'cancelled',
    });
    expect(
      await fails(
        w.client.startSession(w.target, {
          ...ask,
          agentId: 'nobody',
          idempotencyKey: crypto.randomUUID(),
        }),
      ),
    ).toMatchObject({ kind: 'rejected', status: 400 });
    expect(await fails(w.client.getSession(w.target, 'nope'))).toMatchObject({ kind: 'not_found' });
  });

  it('every exchange is a documented operation, answered with the schema for its status', () => {
    const ops = new Set<string>();
    const statuses = new Set<number>();
    for (const ex of w.exchanges) {
      const request = contract.checkRequest(ex);
      expect(request.operationId, `${ex.method} ${ex.path}`).toBeTruthy();
      expect(request.errors, `${ex.method} ${ex.path}`).toEqual([]);
      const response = contract.checkResponse(ex);
      expect(response.documented, `${ex.method} ${ex.path} → ${ex.status}`).toBeTruthy();
      expect(response.errors, `${ex.method} ${ex.path} → ${ex.status}`).toEqual([]);
      ops.add(request.operationId ?? '');
      statuses.add(ex.status);
    }
    expect(ops.size).toBe(7);
    expect([...statuses].sort()).toEqual([200, 201, 400, 401, 404, 409, 422]);
  });
});
