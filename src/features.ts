import { endRunOnLostMachine } from './cli-runs/machine-lost.ts';
import { cliRunsSweeper } from './cli-runs/sweeper.ts';
import type { Sweeper } from './doorbells/sweeper.ts';
import type { MachineLostListener } from './fleet/machine-lost.ts';
import type { OperationListener } from './fleet/operations/store.ts';
import { operationsSweeper } from './fleet/operations/sweeper.ts';
import { noticesSweeper } from './notices/sweeper.ts';
import { recoverySweeper } from './recovery/sweeper.ts';
import { recordTargetOutcome } from './scheduler/outcome.ts';
import { schedulerSweeper } from './scheduler/sweeper.ts';
import { endSessionsOnLostMachine } from './triggers/machine-lost.ts';
import { triggersSweeper } from './triggers/sweeper.ts';

/** Every feature's part of the every-minute sweep. */
export const SWEEPERS: Sweeper[] = [
  operationsSweeper,
  schedulerSweeper,
  recoverySweeper,
  cliRunsSweeper,
  noticesSweeper,
  triggersSweeper,
];

/** Features told, inside its transaction, when an instance operation finishes. */
export const OPERATION_LISTENERS: OperationListener[] = [recordTargetOutcome];

/** Features told when reconcile gives an instance's machine up, before its recovery begins. */
export const MACHINE_LOST_LISTENERS: MachineLostListener[] = [
  endRunOnLostMachine,
  endSessionsOnLostMachine,
];
