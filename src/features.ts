import { endRunOnLostMachine } from './cli-runs/machine-lost.ts';
import { cliRunCleanupUnits, cliRunUnits } from './cli-runs/units.ts';
import type { MachineLostListener } from './fleet/machine-lost.ts';
import type { OperationListener } from './fleet/operations/store.ts';
import { operationUnits } from './fleet/operations/units.ts';
import { type Sweeper, sweeperOf } from './lib/work/index.ts';
import { deliveryUnits } from './notices/units.ts';
import { recoveryUnits } from './recovery/units.ts';
import { recordTargetOutcome } from './scheduler/outcome.ts';
import { targetUnits } from './scheduler/units.ts';
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
];

/** Features told, inside its transaction, when an instance operation finishes. */
export const OPERATION_LISTENERS: OperationListener[] = [recordTargetOutcome];

/** Features told when reconcile gives an instance's machine up, before its recovery begins. */
export const MACHINE_LOST_LISTENERS: MachineLostListener[] = [
  endRunOnLostMachine,
  endSessionsOnLostMachine,
];
