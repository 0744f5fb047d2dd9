import { cancelRunOnDeprovision } from './cli-runs/deprovision.ts';
import { endRunOnLostMachine } from './cli-runs/machine-lost.ts';
import { cliRunCleanupUnits, cliRunUnits } from './cli-runs/units.ts';
import type { DeprovisionListener } from './deprovision/listeners.ts';
import { deprovisionUnits } from './deprovision/units.ts';
import type { MachineLostListener } from './fleet/machine-lost.ts';
import type { OperationListener } from './fleet/operations/store.ts';
import { operationUnits } from './fleet/operations/units.ts';
import { idempotencySweeper } from './idempotency/sweep.ts';
import { type Sweeper, sweeperOf } from './lib/work/index.ts';
import { deliveryUnits } from './notices/units.ts';
import { recoveryUnits } from './recovery/units.ts';
import { cancelTargetsOnDeprovision } from './scheduler/deprovision.ts';
import { recordTargetOutcome } from './scheduler/outcome.ts';
import { targetUnits } from './scheduler/units.ts';
import { agentsOnDeprovision } from './triggers/deprovision.ts';
import { endSessionsOnLostMachine } from './triggers/machine-lost.ts';
import { sessionUnits } from './triggers/units.ts';

/** Every feature's part of the every-minute sweep. */
export const SWEEPERS: Sweeper[] = [
  sweeperOf(operationUnits),
  sweeperOf(targetUnits),
  sweeperOf(recoveryUnits),
  sweeperOf(cliRunUnits),
  sweeperOf(cliRunCleanupUnits),
  sweeperOf(deliveryUnits),
  sweeperOf(sessionUnits),
  sweeperOf(deprovisionUnits),
  idempotencySweeper,
];

/** Features told, inside its transaction, when an instance operation finishes. */
export const OPERATION_LISTENERS: OperationListener[] = [recordTargetOutcome];

/** Features told when reconcile gives an instance's machine up, before its recovery begins. */
export const MACHINE_LOST_LISTENERS: MachineLostListener[] = [
  endRunOnLostMachine,
  endSessionsOnLostMachine,
];

/**
 * Features told at each phase of an instance's deprovision (src/deprovision/listeners.ts),
 * in this order: pending scheduled targets are cancelled first (so none starts an
 * operation), then the CLI run, then agents and their sessions.
 */
export const DEPROVISION_LISTENERS: DeprovisionListener[] = [
  cancelTargetsOnDeprovision,
  cancelRunOnDeprovision,
  agentsOnDeprovision,
];
