import type { Db } from '../../../db/client.ts';
import { createTokenBuckets, type TokenBuckets } from '../../adapters/fly/rate-limit.ts';
import { type ControllerRuns, createControllerRuns } from './controller-runs.ts';
import { createFaults, type Faults } from './faults-state.ts';

/** How long each simulated transition takes at `timeScale` 1, in milliseconds. */
export type SimTimings = {
  startMs: number;
  stopMs: number;
  updateMs: number;
  destroyMs: number;
  forkHydrateMs: number;
  restoreMs: number;
  snapshotMs: number;
  extendMs: number;
};

export const DEFAULT_TIMINGS: SimTimings = {
  startMs: 2000,
  stopMs: 1000,
  updateMs: 1500,
  destroyMs: 500,
  forkHydrateMs: 3000,
  restoreMs: 2000,
  snapshotMs: 1000,
  extendMs: 1000,
};

export type FlySimulatorOptions = {
  db: Db;
  /** The simulator's clock; it decides every timestamp and due time (default: system time). */
  now?: () => Date;
  /**
   * Multiplies every simulated duration, wait timeout and injected latency (default 1), so
   * tests can run a 2 s boot in 20 ms with 0.01. Lease TTLs and rate limits stay real.
   */
  timeScale?: number;
  timings?: Partial<SimTimings>;
  /** When set, only `Authorization: Bearer <token>` is accepted; otherwise any bearer. */
  token?: string;
  /** Waits in ms (wait polling, injected latency); pair a fake clock with a fake sleep. */
  sleep?: (ms: number) => Promise<void>;
  /** Uniform in [0, 1): decides injected error rates. */
  random?: () => number;
  /** Region for machines created without one and without a volume (default `iad`). */
  defaultRegion?: string;
  /**
   * A real instance controller (the reference one, controller/) to forward every started
   * machine's controller calls to, with `token` as their bearer token, instead of
   * simulating runs and sessions. One controller then serves every machine.
   */
  controller?: { url: string; token: string };
};

/** What every simulator module receives. */
export type SimContext = {
  db: Db;
  now: () => Date;
  nowMs: () => number;
  /** Simulated duration → real milliseconds. */
  scaled: (ms: number) => number;
  /** Already scaled: real milliseconds each transition takes. */
  timings: SimTimings;
  sleep: (ms: number) => Promise<void>;
  random: () => number;
  defaultRegion: string;
  faults: Faults;
  buckets: TokenBuckets;
  /** Each started machine's controller: CLI runs and sessions, in memory. */
  controller: ControllerRuns;
  /** See {@link FlySimulatorOptions.controller}; null: simulated. */
  realController: { url: string; token: string } | null;
};

/**
 * The timings as the faults leave them: `slow_start_ms` lengthens starts (a start that
 * outlasts a caller's wait), `slow_hydration_ms` keeps forks hydrating longer.
 */
export function currentTimings(ctx: SimContext): SimTimings {
  const { slowStartMs, slowHydrationMs } = ctx.faults.state;
  if (!slowStartMs && !slowHydrationMs) return ctx.timings;
  return {
    ...ctx.timings,
    startMs: ctx.timings.startMs + ctx.scaled(slowStartMs),
    forkHydrateMs: ctx.timings.forkHydrateMs + ctx.scaled(slowHydrationMs),
  };
}

/** Resolves options: defaults, scaled timings, fresh in-memory faults and rate buckets. */
export function createContext(options: FlySimulatorOptions): SimContext {
  const now = options.now ?? (() => new Date());
  const scale = options.timeScale ?? 1;
  const timings = { ...DEFAULT_TIMINGS, ...options.timings };
  for (const key of Object.keys(timings) as (keyof SimTimings)[]) timings[key] *= scale;
  return {
    db: options.db,
    now,
    nowMs: () => now().getTime(),
    scaled: (ms) => ms * scale,
    timings,
    sleep: options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: options.random ?? Math.random,
    defaultRegion: options.defaultRegion ?? 'iad',
    faults: createFaults(),
    buckets: createTokenBuckets(() => now().getTime()),
    controller: createControllerRuns((ms) => ms * scale),
    realController: options.controller ?? null,
  };
}
