import type { Db } from '../../../db/client.ts';
import type { Clock } from '../clock.ts';
import { type Claim, type ClaimableTable, ClaimLost, type WorkUnits } from './units.ts';
import { heldBy } from './write.ts';

/**
 * Pushes the claim's lease on to `now + leaseMs` (milliseconds, the app's clock), guarded by
 * the claim: {@link ClaimLost} when another holder has the unit now. Returns the new end.
 */
export async function renewLease<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  claim: Claim,
  now: Date,
  leaseMs: number,
): Promise<Date> {
  const table = units.table as ClaimableTable;
  if (!table.leaseUntil) throw new Error(`${units.name}: this table has no lease column`);
  const leaseUntil = new Date(now.getTime() + leaseMs);
  const rows = await db
    .update(table)
    .set({ leaseUntil })
    .where(heldBy(table, claim))
    .returning({ id: table.id });
  if (!rows.length) throw new ClaimLost(`${units.name} ${claim.id}`);
  return leaseUntil;
}

/** Keeps a claim's lease ahead of the outside calls its holder makes. */
export type LeaseKeeper = {
  /** Renews the lease when less than `needMs` of it is left; {@link ClaimLost} when lost. */
  ensure(): Promise<void>;
  /** `client` with {@link ensure} awaited ahead of each of its methods. */
  guard<C extends object>(client: C): C;
};

/**
 * The lease-guarded outside call, one mechanism for every job: before each call of a
 * guarded client (Fly, a gateway probe, the instance controller, a provider) the lease is
 * renewed when less than `needMs` is left (renewal is guarded by the claim), so a live
 * holder never loses its unit in the middle of a call and a frozen one does — and then
 * finds every write refused. `needMs` should cover one call's timeout plus the work done
 * between calls (ms).
 */
export function leaseKeeper<T extends ClaimableTable>(input: {
  db: Db;
  units: WorkUnits<T>;
  claim: Claim & { leaseUntil: Date | null };
  clock: Clock;
  leaseMs: number;
  needMs: number;
}): LeaseKeeper {
  let leaseUntil = input.claim.leaseUntil?.getTime() ?? 0;
  const ensure = async () => {
    const now = input.clock.now();
    if (leaseUntil - now.getTime() > input.needMs) return;
    leaseUntil = (
      await renewLease(input.db, input.units, input.claim, now, input.leaseMs)
    ).getTime();
  };
  return {
    ensure,
    guard<C extends object>(client: C): C {
      return new Proxy(client, {
        get(target, key, receiver) {
          const value = Reflect.get(target, key, receiver);
          if (typeof value !== 'function') return value;
          return async (...args: unknown[]) => {
            await ensure();
            return (value as (...a: unknown[]) => unknown).apply(target, args);
          };
        },
      });
    },
  };
}
