import { operationsSweeper } from '../fleet/operations/sweeper.ts';
import type { Sweeper } from './sweeper.ts';

/** Every feature's sweeper, run by the every-minute sweep. Features add theirs here. */
export const SWEEPERS: Sweeper[] = [operationsSweeper];
