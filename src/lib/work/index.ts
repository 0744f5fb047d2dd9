// The work-unit engine (see units.ts for the map of verbs).
export {
  type At,
  type ClaimOptions,
  claimAssignments,
  claimable,
  claimSet,
  claimStatement,
  claimUnit,
  later,
  leaseFree,
} from './claim.ts';
export { type LeaseKeeper, leaseKeeper, renewLease } from './lease.ts';
export { returnAllLeases, returnExpiredLeases } from './reset.ts';
export { expediteUnits, overdueUnits, type Sweeper, sweeperOf } from './sweep.ts';
export {
  type Claim,
  type ClaimableTable,
  ClaimLost,
  type LeaseReturn,
  type SweepCounts,
  type WorkUnits,
  workUnits,
} from './units.ts';
export {
  handBack,
  heldBy,
  released,
  type WriteOptions,
  writeHeld,
  writeHeldEach,
} from './write.ts';
