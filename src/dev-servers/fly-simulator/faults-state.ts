import { z } from 'zod';

/** Endpoint names used by error, latency and rate-limit faults (and as rate-limit actions). */
const ENDPOINTS = [
  'get_app',
  'create_app',
  'create_machine',
  'get_machine',
  'list_machines',
  'update_machine',
  'start_machine',
  'stop_machine',
  'restart_machine',
  'suspend_machine',
  'delete_machine',
  'wait',
  'list_events',
  'acquire_lease',
  'get_lease',
  'release_lease',
  'create_volume',
  'get_volume',
  'list_volumes',
  'delete_volume',
  'extend_volume',
  'list_snapshots',
  'create_snapshot',
  // The instance controller (controller.ts): timeouts are latency faults, 5xx and 409 errors.
  'controller_start_cli_run',
  'controller_get_cli_run',
  'controller_get_cli_run_output',
  'controller_cancel_cli_run',
  'controller_start_session',
  'controller_get_session',
  'controller_cancel_session',
] as const;
export type Endpoint = (typeof ENDPOINTS)[number];

const Ids = z.array(z.string().min(1)).max(10_000);

/**
 * `POST /_faults` body. Lists are added to what is already set; `rate_limit` replaces.
 * `stop_machines` acts once and is not kept.
 */
export const FaultsInput = z
  .object({
    errors: z
      .array(
        z
          .object({
            endpoint: z.enum(ENDPOINTS),
            status: z.number().int().min(400).max(599),
            /** Probability per request (default 1). */
            rate: z.number().min(0).max(1).default(1),
            /** Fail at most this many requests, then the fault is gone (default: unlimited). */
            times: z.number().int().min(1).optional(),
            /** The `error` text; default `<code>: injected fault`. */
            error: z.string().min(1).optional(),
            /** `after`: do the work, then answer the error (an ambiguous failure). */
            phase: z.enum(['before', 'after']).default('before'),
          })
          .strict(),
      )
      .optional(),
    latency: z
      .array(
        z
          .object({
            endpoint: z.enum([...ENDPOINTS, '*']),
            ms: z.number().int().min(0).max(600_000),
            /**
             * `after`: do the work, then hold the answer back for `ms` (× timeScale), so a
             * client that gives up first has lost the answer to a call that took effect.
             */
            phase: z.enum(['before', 'after']).default('before'),
          })
          .strict(),
      )
      .optional(),
    out_of_capacity: z.array(z.string().min(1)).optional(),
    unreachable: z
      .object({ machine_ids: Ids.optional(), regions: Ids.optional() })
      .strict()
      .optional(),
    stop_machines: z
      .array(
        z
          .object({
            machine_id: z.string().min(1),
            exit_code: z.number().int().min(0).max(255).default(137),
            oom_killed: z.boolean().default(false),
          })
          .strict(),
      )
      .optional(),
    image_pull_failures: z.array(z.string().min(1)).optional(),
    /**
     * Milliseconds (× timeScale) a fork stays `hydrating` beyond its usual time; replaces
     * any earlier value, 0 turns it off.
     */
    slow_hydration_ms: z.number().int().min(0).max(3_600_000).optional(),
    /**
     * Milliseconds (× timeScale) every start and every launching create takes on top of its
     * usual time, so a `wait` for `started` answers 408 meanwhile; replaces any earlier
     * value, 0 turns it off.
     */
    slow_start_ms: z.number().int().min(0).max(3_600_000).optional(),
    unhealthy_machines: Ids.optional(),
    /** These machines' controllers forget every run and session, as after a restart (acts once). */
    forget_runs: Ids.optional(),
    rate_limit: z.boolean().optional(),
  })
  .strict();
export type FaultsInput = z.infer<typeof FaultsInput>;

export type ErrorFault = NonNullable<FaultsInput['errors']>[number];

/**
 * Injected faults. They live in memory (not in the database) on purpose: they describe
 * a test's or a demo's weather, not the fleet, and a restart should clear them.
 * Host unreachability is kept by zone (a machine's host), so every machine and volume
 * on the same host is affected.
 */
export function createFaults() {
  const state = {
    errors: [] as ErrorFault[],
    latency: [] as { endpoint: Endpoint | '*'; ms: number; phase: 'before' | 'after' }[],
    outOfCapacity: new Set<string>(),
    unreachableRegions: new Set<string>(),
    unreachableZones: new Set<string>(),
    unreachableMachines: new Set<string>(),
    imagePullFailures: new Set<string>(),
    unhealthy: new Set<string>(),
    rateLimit: false,
    slowHydrationMs: 0,
    slowStartMs: 0,
  };
  return {
    state,
    add(input: FaultsInput, zones: string[]) {
      state.errors.push(...(input.errors ?? []));
      state.latency.push(...(input.latency ?? []));
      for (const r of input.out_of_capacity ?? []) state.outOfCapacity.add(r);
      for (const r of input.unreachable?.regions ?? []) state.unreachableRegions.add(r);
      for (const m of input.unreachable?.machine_ids ?? []) state.unreachableMachines.add(m);
      for (const z of zones) state.unreachableZones.add(z);
      for (const i of input.image_pull_failures ?? []) state.imagePullFailures.add(i);
      for (const m of input.unhealthy_machines ?? []) state.unhealthy.add(m);
      if (input.rate_limit !== undefined) state.rateLimit = input.rate_limit;
      if (input.slow_hydration_ms !== undefined) state.slowHydrationMs = input.slow_hydration_ms;
      if (input.slow_start_ms !== undefined) state.slowStartMs = input.slow_start_ms;
    },
    clear() {
      state.errors = [];
      state.latency = [];
      for (const set of Object.values(state)) if (set instanceof Set) set.clear();
      state.rateLimit = false;
      state.slowHydrationMs = 0;
      state.slowStartMs = 0;
    },
    /** The error to inject for this request and phase, consuming one of its `times`. */
    takeError(endpoint: Endpoint, phase: 'before' | 'after', random: () => number) {
      const i = state.errors.findIndex((f) => f.endpoint === endpoint && f.phase === phase);
      const fault = state.errors[i];
      if (!fault || random() >= fault.rate) return null;
      if (fault.times !== undefined) {
        if (fault.times <= 1) state.errors.splice(i, 1);
        else fault.times -= 1;
      }
      return fault;
    },
    latencyFor(endpoint: Endpoint, phase: 'before' | 'after' = 'before'): number {
      return state.latency
        .filter((l) => (l.endpoint === endpoint || l.endpoint === '*') && l.phase === phase)
        .reduce((sum, l) => sum + l.ms, 0);
    },
    hostUnreachable(host: { region: string; zone: string }): boolean {
      return state.unreachableRegions.has(host.region) || state.unreachableZones.has(host.zone);
    },
    /** What `GET /_faults` shows. */
    view() {
      return {
        errors: state.errors,
        latency: state.latency,
        out_of_capacity: [...state.outOfCapacity],
        unreachable: {
          machine_ids: [...state.unreachableMachines],
          regions: [...state.unreachableRegions],
          zones: [...state.unreachableZones],
        },
        image_pull_failures: [...state.imagePullFailures],
        unhealthy_machines: [...state.unhealthy],
        rate_limit: state.rateLimit,
        slow_hydration_ms: state.slowHydrationMs,
        slow_start_ms: state.slowStartMs,
      };
    },
  };
}

export type Faults = ReturnType<typeof createFaults>;
