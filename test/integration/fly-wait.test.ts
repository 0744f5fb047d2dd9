import { describe, expect, it } from 'vitest';
import { FlyApiError } from '../../src/adapters/fly/errors.ts';
import { waitForMachineState } from '../../src/adapters/fly/wait.ts';
import { agentConfig, createFlyHarness } from '../helpers/fly.ts';

describe('fly simulator: wait', async () => {
  const h = await createFlyHarness();
  const app = await h.makeApp();
  const waitUrls: string[] = [];
  const counting = h.newClient({
    fetch: async (input, init) => {
      const url = String(input);
      if (url.includes('/wait')) waitUrls.push(url);
      return h.fetch(input, init);
    },
  });

  it('answers 200 {"ok":true} once the state is reached, naming the state', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    expect(await h.client.waitMachine(app, m.id, { state: 'started' })).toEqual({
      ok: true,
      state: 'started',
    });
    const res = await h.call(
      'GET',
      `/v1/apps/${app}/machines/${m.id}/wait?state=settled&timeout=5`,
    );
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, state: 'started' });
  });

  it('answers 408 deadline_exceeded with the desired and current state when the timeout passes', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig(), skip_launch: true });
    const res = await h.call(
      'GET',
      `/v1/apps/${app}/machines/${m.id}/wait?state=started&timeout=1`,
    );
    expect(res.status).toBe(408);
    expect(await res.json()).toEqual({
      error: 'deadline_exceeded: machine failed to reach desired state, started, currently created',
    });
    const error = await h.client
      .waitMachine(app, m.id, { state: 'started', timeoutSeconds: 1 })
      .catch((e) => e);
    expect(error).toBeInstanceOf(FlyApiError);
    expect(error).toMatchObject({ status: 408, code: 'deadline_exceeded' });
  });

  it('rejects a timeout outside 1–60 s and stopped without instance_id, as the live API does', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig(), skip_launch: true });
    for (const timeout of ['61', '0', 'soon']) {
      const res = await h.call('GET', `/v1/apps/${app}/machines/${m.id}/wait?timeout=${timeout}`);
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({
        error:
          'invalid_argument: invalid WaitMachineRequest.Timeout: value must be inside range [1s, 1m0s]',
      });
    }
    const stopped = await h.call('GET', `/v1/apps/${app}/machines/${m.id}/wait?state=stopped`);
    expect(stopped.status).toBe(400);
    expect((await stopped.json()).error).toMatch(/^invalid_argument: .*instance_id is required/);
    const unknownState = await h.call(
      'GET',
      `/v1/apps/${app}/machines/${m.id}/wait?state=sleeping`,
    );
    expect(unknownState.status).toBe(400);
  });

  it('accepts fly-go’s `version` and repeated `state`; 404s an unknown version', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    const res = await h.call(
      'GET',
      `/v1/apps/${app}/machines/${m.id}/wait?state=stopped&state=started&version=${m.instance_id}&timeout=2`,
    );
    expect(await res.json()).toEqual({ ok: true, state: 'started' });
    const unknown = await h.call(
      'GET',
      `/v1/apps/${app}/machines/${m.id}/wait?instance_id=01HQ73A7BFFDF1B6WMGHFZZ4E7`,
    );
    expect(unknown.status).toBe(404);
  });

  it('the client clamps timeoutSeconds to 1–60 and sends instance_id', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig() });
    waitUrls.length = 0;
    await counting.waitMachine(app, m.id, {
      state: 'started',
      timeoutSeconds: 600,
      instanceId: m.instance_id,
    });
    await counting.waitMachine(app, m.id, { state: 'started', timeoutSeconds: 0.2 });
    const params = waitUrls.map((u) => Object.fromEntries(new URL(u).searchParams));
    expect(params).toEqual([
      { state: 'started', instance_id: m.instance_id, timeout: '60' },
      { state: 'started', timeout: '1' },
    ]);
  });

  it('waitForMachineState re-waits across 408s and succeeds when the state comes', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig(), skip_launch: true });
    waitUrls.length = 0;
    // Each 1 s wait is 10 ms of simulated time; the start takes 20 ms.
    await h.client.startMachine(app, m.id);
    const result = await waitForMachineState(counting, app, m.id, {
      state: 'started',
      deadlineMs: 60_000,
      perCallTimeoutSeconds: 1,
      now: h.clock.now,
    });
    expect(result).toEqual({ ok: true, state: 'started' });
    expect(waitUrls.length).toBeGreaterThanOrEqual(2);
  });

  it('waitForMachineState gives up with 408 at the overall deadline after several waits', async () => {
    const m = await h.client.createMachine(app, { config: agentConfig(), skip_launch: true });
    waitUrls.length = 0;
    const error = await waitForMachineState(counting, app, m.id, {
      state: 'started',
      deadlineMs: 50,
      perCallTimeoutSeconds: 1,
      now: h.clock.now,
    }).catch((e) => e);
    expect(error).toBeInstanceOf(FlyApiError);
    expect(error).toMatchObject({ status: 408, code: 'deadline_exceeded' });
    expect(error.message).toBe(
      `machine ${m.id} did not reach started within 50 ms; last seen created (version ${m.instance_id})`,
    );
    expect(waitUrls.length).toBeGreaterThanOrEqual(3);
  });
});
