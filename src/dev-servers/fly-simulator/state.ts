// The machine lifecycle (docs: machines/machine-states; machines-resource). Each action
// gives the state the machine enters at once and the future steps (with due times) that
// finish it; steps are applied lazily when the row is next read. Pure functions only.
import type { SimFlyMachineState, SimFlyStep } from '../../../db/dev-schema/fly-simulator.ts';
import type { SimTimings } from './context.ts';
import { machineNotFound, precondition, SimError } from './respond.ts';

export type MachineEventSpec = NonNullable<SimFlyStep['event']>;
export type Plan = { state: SimFlyMachineState; steps: SimFlyStep[]; event: MachineEventSpec };

/** States a machine leaves on its own (docs: "transient"). */
export const TRANSIENT = new Set<string>([
  'starting',
  'stopping',
  'restarting',
  'suspending',
  'destroying',
  'launch_failed',
  'updating',
  'replacing',
]);

const RUNNING = new Set<string>(['started', 'starting', 'restarting']);
const user = (type: string, status: string): MachineEventSpec => ({ type, status, source: 'user' });
const flyd = (
  type: string,
  status: string,
  request?: Record<string, unknown>,
): MachineEventSpec => ({
  type,
  status,
  source: 'flyd',
  ...(request ? { request } : {}),
});

/** The exit a requested stop records (fly-go `MachineExitEvent`; exit code 0 is omitted). */
const requestedExit = (at: number) => ({
  exit_event: {
    requested_stop: true,
    restarting: false,
    oom_killed: false,
    exited_at: new Date(at).toISOString(),
  },
});

function started(at: number): SimFlyStep {
  return { at, state: 'started', event: flyd('start', 'started') };
}

/** Create: `created`, then booting unless `skip_launch`. */
export function planCreate(skipLaunch: boolean, t0: number, t: SimTimings): Plan {
  const event = user('launch', 'created');
  if (skipLaunch) return { state: 'created', steps: [], event };
  return {
    state: 'created',
    steps: [{ at: t0, state: 'starting' }, started(t0 + t.startMs)],
    event,
  };
}

/** Start; `null` means already started (answered 200, nothing changes). */
export function planStart(state: string, t0: number, t: SimTimings): Plan | null {
  if (state === 'started') return null;
  if (state === 'starting' || state === 'restarting')
    throw precondition('machine still attempting to start');
  if (state === 'stopping' || state === 'suspending')
    throw precondition('machine still active, refusing to start');
  if (state === 'replacing' || state === 'updating')
    throw precondition('machine getting replaced, refusing to start');
  if (!['created', 'stopped', 'suspended', 'failed'].includes(state))
    throw precondition(`unable to start machine from current state: '${state}'`);
  return { state: 'starting', steps: [started(t0 + t.startMs)], event: user('start', 'starting') };
}

/** Stop; `null` when already stopped or stopping. Stopping a suspended machine drops its snapshot. */
export function planStop(state: string, t0: number, t: SimTimings): Plan | null {
  if (state === 'stopped' || state === 'stopping') return null;
  if (state === 'failed') return { state: 'stopped', steps: [], event: user('stop', 'stopped') };
  if (!['started', 'starting', 'restarting', 'suspended', 'suspending'].includes(state))
    throw precondition(`unable to stop machine from current state: '${state}'`);
  const at = t0 + t.stopMs;
  return {
    state: 'stopping',
    steps: [{ at, state: 'stopped', event: flyd('exit', 'stopped', requestedExit(at)) }],
    event: user('stop', 'stopping'),
  };
}

/** Suspend, only from `started`; the next start resumes (docs: machines-resource). */
export function planSuspend(state: string, t0: number, t: SimTimings): Plan {
  if (state !== 'started')
    throw precondition(`unable to suspend machine from current state: '${state}'`);
  return {
    state: 'suspending',
    steps: [{ at: t0 + t.stopMs, state: 'suspended', event: flyd('suspend', 'suspended') }],
    event: user('suspend', 'suspending'),
  };
}

/** Restart = stop then start; a stopped, suspended or failed machine is simply started. */
export function planRestart(state: string, t0: number, t: SimTimings): Plan {
  if (!['started', 'stopped', 'suspended', 'failed'].includes(state))
    throw precondition(`unable to restart machine from current state: '${state}'`);
  const stopFirst = state === 'started' ? t.stopMs : 0;
  return {
    state: 'restarting',
    steps: [started(t0 + stopFirst + t.startMs)],
    event: user('restart', 'restarting'),
  };
}

/**
 * Destroy; without `force` only from stopped, suspended, failed or created (observed 412).
 * `null` while already destroying; a destroyed machine is gone (404).
 */
export function planDestroy(state: string, force: boolean, t0: number, t: SimTimings): Plan | null {
  if (state === 'destroying') return null;
  if (state === 'destroyed') throw machineNotFound();
  const idle = ['stopped', 'suspended', 'failed', 'created', 'launch_failed'].includes(state);
  if (!idle && !force)
    throw precondition(
      'unable to destroy machine, not currently stopped, suspended, failed or created',
    );
  const at = t0 + (idle ? 0 : t.stopMs) + t.destroyMs;
  return {
    state: 'destroying',
    steps: [{ at, state: 'destroyed', event: flyd('destroy', 'destroyed') }],
    event: user('destroy', 'destroying'),
  };
}

/**
 * Update to a new version. A running machine is `replacing` (old version stopping), then
 * boots the new one; anything else is `updating` and ends `stopped` (observed: a stopped
 * machine's new version stays stopped), except that a `created` machine boots by default
 * (docs: machine-states) or stays `created` with `skip_launch`. `revertTo` (image pull
 * failure fault) makes the last step fall back to that version, as flyd does (flyctl #4878).
 */
export function planUpdate(
  state: string,
  skipLaunch: boolean,
  t0: number,
  t: SimTimings,
  revertTo?: string,
): Plan {
  if (state === 'updating' || state === 'replacing') throw concurrentUpdate();
  if (state === 'destroying' || state === 'destroyed')
    throw precondition(`unable to update machine from current state: '${state}'`);
  const running = RUNNING.has(state);
  const boots = !skipLaunch && (running || state === 'created');
  const end = t0 + t.updateMs;
  const final: SimFlyStep = boots
    ? started(end)
    : {
        at: end,
        state: state === 'created' ? 'created' : 'stopped',
        event: flyd('update', 'updated'),
      };
  if (revertTo) final.revertTo = revertTo;
  const steps =
    running && boots ? [{ at: t0 + t.updateMs / 2, state: 'starting' }, final] : [final];
  return { state: running ? 'replacing' : 'updating', steps, event: user('update', 'replacing') };
}

/** 409 for a concurrent change (fly-go flaps_error_test.go). */
export const concurrentUpdate = () =>
  new SimError(409, 'aborted: machine update failed due to concurrent update');

/** Steps due at `nowMs`, applied in order; `null` when none is due. */
export function dueSteps(steps: SimFlyStep[], nowMs: number) {
  const fired = steps.filter((s) => s.at <= nowMs);
  if (!fired.length) return null;
  const rest = steps.filter((s) => s.at > nowMs);
  const last = fired[fired.length - 1] as SimFlyStep;
  return { state: last.state as SimFlyMachineState, fired, rest };
}

/** Earliest due time of pending steps (the row's `due_at`), or null. */
export function dueAt(steps: SimFlyStep[]): Date | null {
  return steps.length ? new Date(Math.min(...steps.map((s) => s.at))) : null;
}
