import { expect } from 'vitest';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import type { TestApp } from './app.ts';

export type SimRun = {
  runId: string;
  status: 'running' | 'completed' | 'failed' | 'cancelled';
  outputSize: number;
  idempotencyKey: string | null;
};
export type SimSession = {
  sessionId: string;
  agentId: string;
  status: 'creating' | 'ready' | 'completed' | 'failed' | 'cancelled';
  idempotencyKey: string;
};

/** Every simulated controller's runs and sessions now (`GET /__dev/fly/_controller-state`). */
export async function simControllerState(
  t: TestApp,
): Promise<{ machineId: string; runs: SimRun[]; sessions: SimSession[] }[]> {
  const res = await t.app.fetch(
    new Request(`${t.origin}/__dev/fly/_controller-state`, {
      headers: { Authorization: `Bearer ${t.deps.config.fly.token}` },
    }),
    IN_PROCESS_ENV,
  );
  expect(res.status).toBe(200);
  return ((await res.json()) as { machines: never[] }).machines;
}

/** The runs and sessions of one machine's controller (empty when it knows none). */
export async function simControllerOf(t: TestApp, machineId: string) {
  const m = (await simControllerState(t)).find((x) => x.machineId === machineId);
  return { runs: m?.runs ?? [], sessions: m?.sessions ?? [] };
}

/**
 * Waits until `check` holds, re-reading between tries on the event loop (no fixed sleep):
 * for effects that land on their own, like a start the client gave up on that the
 * simulator still carries out once its injected latency is over. Fails after `timeoutMs`.
 */
export async function until<T>(
  what: string,
  read: () => Promise<T>,
  check: (value: T) => boolean,
  timeoutMs = 10_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
