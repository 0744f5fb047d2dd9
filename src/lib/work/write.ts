import { and, eq, type SQL, sql } from 'drizzle-orm';
import type { PgColumn, PgUpdateSetSource } from 'drizzle-orm/pg-core';
import type { Db } from '../../../db/client.ts';
import { type Claim, type ClaimableTable, ClaimLost, type WorkUnits } from './units.ts';

/** WHERE: the unit is still the holder's (same id, same token). */
export function heldBy(table: ClaimableTable, claim: Claim): SQL {
  // A null token is never held: `claim_token = null` matches no row, as it should.
  return and(eq(table.id, claim.id), eq(table.claimToken, claim.claimToken ?? sql`null`)) as SQL;
}

/** SET: gives the unit back. The token goes too, so the old holder's guarded writes fail. */
export function released(table: ClaimableTable) {
  return table.leaseUntil ? { claimToken: null, leaseUntil: null } : { claimToken: null };
}

export type WriteOptions = {
  /** Narrows the guard further (e.g. `status = 'running'`). */
  when?: SQL;
  /** Give the claim back in the same statement. */
  release?: boolean;
};

/**
 * The guarded write every later write of a claimed unit goes through: `UPDATE … SET set
 * WHERE id = claim.id AND claim_token = claim.token [AND when] RETURNING *`. Throws
 * {@link ClaimLost} when no row matched: the holder lost the unit (its lease was returned
 * and someone else claimed it, or it ended) and must change nothing else.
 */
export async function writeHeld<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  claim: Claim,
  set: Record<string, unknown>,
  options: WriteOptions = {},
): Promise<T['$inferSelect']> {
  const table = units.table as ClaimableTable;
  const [row] = await db
    .update(table)
    .set({ ...set, ...(options.release ? released(table) : {}) })
    .where(and(heldBy(table, claim), options.when))
    .returning();
  if (!row) throw new ClaimLost(`${units.name} ${claim.id}`);
  return row as T['$inferSelect'];
}

/**
 * {@link writeHeld} for many held units in one statement, each with its own values (a
 * provider batch's outcomes): `UPDATE … SET col = v.col, … FROM (VALUES …) v WHERE id =
 * v.id AND claim_token = v.claim_token [AND when] RETURNING id`. Every write names the same
 * columns (drizzle keys; values, or null). A unit whose claim was lost is not touched (its
 * new holder decides): the ids still held come back, and the caller acts on those only.
 */
export async function writeHeldEach<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  writes: { claim: Claim; set: Record<string, unknown> }[],
  options: WriteOptions = {},
): Promise<string[]> {
  if (!writes.length) return [];
  const table = units.table as ClaimableTable;
  const columns = table as unknown as Record<string, PgColumn>;
  const keys = Object.keys(writes[0]?.set ?? {});
  const value = (key: string, v: unknown): SQL => {
    const column = columns[key];
    if (!column) throw new Error(`${units.name}: ${key} is not a column`);
    const type = sql.raw(column.getSQLType());
    if (v === null || v === undefined) return sql`null::${type}`;
    return sql`${column.mapToDriverValue(v)}::${type}`;
  };
  const rows = writes.map(({ claim, set }) => {
    if (Object.keys(set).length !== keys.length || keys.some((k) => !(k in set)))
      throw new Error(`${units.name}: every write of one writeHeldEach names the same columns`);
    return sql`(${claim.id}::uuid, ${claim.claimToken}::uuid, ${sql.join(
      keys.map((k) => value(k, set[k])),
      sql`, `,
    )})`;
  });
  const names = ['unit_id', 'unit_token', ...keys.map((_, i) => `c${i}`)];
  const values = sql`(values ${sql.join(rows, sql`, `)}) as v(${sql.raw(names.join(', '))})`;
  const set = Object.fromEntries(keys.map((k, i) => [k, sql.raw(`v.c${i}`)]));
  const held = await db
    .update(table)
    .set({ ...set, ...(options.release ? released(table) : {}) } as PgUpdateSetSource<T>)
    .from(values)
    .where(
      and(
        eq(table.id, sql.raw('v.unit_id')),
        eq(table.claimToken, sql.raw('v.unit_token')),
        options.when,
      ),
    )
    .returning({ id: table.id });
  return held.map((r) => r.id as string);
}

/**
 * Gives the unit back until `at` (its continuation doorbell rings then): writes `set`, the
 * due time and the release in one guarded statement. {@link ClaimLost} as {@link writeHeld}.
 */
export function handBack<T extends ClaimableTable>(
  db: Db,
  units: WorkUnits<T>,
  claim: Claim,
  at: Date,
  set: Record<string, unknown> = {},
  options: Omit<WriteOptions, 'release'> = {},
): Promise<T['$inferSelect']> {
  return writeHeld(
    db,
    units,
    claim,
    { ...set, [dueKey(units as unknown as WorkUnits)]: at },
    { ...options, release: true },
  );
}

/** The drizzle key of the due column (its property name on the table). */
export function dueKey(units: WorkUnits): string {
  const columns = units.table as unknown as Record<string, unknown>;
  const key = Object.keys(columns).find((k) => columns[k] === units.dueAt);
  if (!key) throw new Error(`${units.name}: dueAt is not a column of its table`);
  return key;
}
