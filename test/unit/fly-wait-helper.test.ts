import { describe, expect, it } from 'vitest';
import type { FlyClient } from '../../src/adapters/fly/client.ts';
import { FlyApiError } from '../../src/adapters/fly/errors.ts';
import type { Machine } from '../../src/adapters/fly/types.ts';
import { waitForMachineState } from '../../src/adapters/fly/wait.ts';

const timeout = () =>
  new FlyApiError({
    status: 408,
    message: 'deadline_exceeded: machine failed to reach desired state, started, currently stopped',
  });

/** A fake client: each wait takes its full timeout on the fake clock, then answers from `script`. */
function fake(script: (FlyApiError | 'ok')[], machine: Partial<Machine> = {}) {
  let now = 0;
  const timeouts: number[] = [];
  const client = {
    async waitMachine(
      _app: string,
      _id: string,
      { timeoutSeconds = 60 }: { timeoutSeconds?: number },
    ) {
      timeouts.push(timeoutSeconds);
      const next = script.shift() ?? timeout();
      if (next === 'ok') return { ok: true };
      now += timeoutSeconds * 1000;
      throw next;
    },
    async getMachine() {
      return { id: 'm1', state: 'stopped', instance_id: 'v1', ...machine } as Machine;
    },
  } as unknown as FlyClient;
  return { client, timeouts, now: () => now };
}

const run = (
  f: ReturnType<typeof fake>,
  options: { deadlineMs: number; instanceId?: string; per?: number },
) =>
  waitForMachineState(f.client, 'a', 'm1', {
    state: 'started',
    instanceId: options.instanceId,
    deadlineMs: options.deadlineMs,
    perCallTimeoutSeconds: options.per,
    now: f.now,
  }).then(
    (r) => r,
    (e: FlyApiError) => e,
  );

describe('waitForMachineState', () => {
  it('re-waits after each 408 and returns the first success', async () => {
    const f = fake([timeout(), timeout(), 'ok']);
    expect(await run(f, { deadlineMs: 300_000 })).toEqual({ ok: true });
    expect(f.timeouts).toEqual([60, 60, 60]);
  });

  it('shortens the last wait to the time left, then throws 408 deadline_exceeded', async () => {
    const f = fake([]);
    const error = await run(f, { deadlineMs: 150_000 });
    expect(f.timeouts).toEqual([60, 60, 30]);
    expect(error).toMatchObject({ status: 408, code: 'deadline_exceeded' });
    expect((error as FlyApiError).message).toBe(
      'machine m1 did not reach started within 150000 ms; last seen stopped (version v1)',
    );
  });

  it('honours a shorter per-call timeout', async () => {
    const f = fake([timeout(), 'ok']);
    await run(f, { deadlineMs: 60_000, per: 15 });
    expect(f.timeouts).toEqual([15, 15]);
  });

  it('stops early when the machine failed or the version was replaced', async () => {
    const failed = await run(fake([], { state: 'failed' }), { deadlineMs: 600_000 });
    expect(failed).toMatchObject({ status: 412, code: 'failed_precondition' });
    expect((failed as FlyApiError).message).toBe('machine m1 is failed; it will not reach started');
    const replaced = await run(fake([], { state: 'started', instance_id: 'v2' }), {
      deadlineMs: 600_000,
      instanceId: 'v1',
    });
    expect((replaced as FlyApiError).message).toContain('is on version v2, not v1');
  });

  it('passes other errors through at once', async () => {
    const bad = new FlyApiError({ status: 400, message: 'invalid_argument: nope' });
    const f = fake([bad]);
    expect(await run(f, { deadlineMs: 600_000 })).toBe(bad);
    expect(f.timeouts).toHaveLength(1);
  });
});
