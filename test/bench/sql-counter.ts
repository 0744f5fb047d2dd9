import pg from 'pg';

/** Statements and transactions sent to one database by this process, counted at the driver. */
export type SqlCounts = { statements: number; transactions: number };

type CountedClient = pg.Client & {
  connectionParameters?: { database?: string };
  __inTransaction?: boolean;
  __ignored?: boolean;
};

const counts = new Map<string, SqlCounts>();
let installed = false;

const textOf = (query: unknown): string =>
  typeof query === 'string'
    ? query
    : typeof query === 'object' && query && 'text' in query
      ? String((query as { text: unknown }).text)
      : '';

/**
 * Counts what node-postgres sends, per database name: every query but BEGIN, COMMIT and
 * ROLLBACK is a statement; a BEGIN opens a transaction, and a statement outside one is a
 * transaction of its own (autocommit), as PostgreSQL counts `xact_commit`. Wraps
 * `pg.Client.prototype.query` once (the pool's queries go through it too); clients marked
 * with {@link ignoreClient} (the bench's own reads) are not counted.
 */
export function installSqlCounter(): void {
  if (installed) return;
  installed = true;
  const original = pg.Client.prototype.query;
  pg.Client.prototype.query = function (this: CountedClient, ...args: unknown[]) {
    const database = this.connectionParameters?.database;
    if (database && !this.__ignored) {
      const c = counts.get(database) ?? { statements: 0, transactions: 0 };
      counts.set(database, c);
      const text = textOf(args[0]).trim().toLowerCase();
      if (text === 'begin' || text.startsWith('begin ')) {
        c.transactions++;
        this.__inTransaction = true;
      } else if (text === 'commit' || text === 'rollback') {
        this.__inTransaction = false;
      } else {
        c.statements++;
        if (!this.__inTransaction) c.transactions++;
      }
    }
    return (original as (...a: unknown[]) => unknown).apply(this, args);
  } as typeof original;
}

/** A copy of the counts for `database` so far. */
export function sqlCounts(database: string): SqlCounts {
  const c = counts.get(database);
  return { statements: c?.statements ?? 0, transactions: c?.transactions ?? 0 };
}

/** Marks a client whose queries are measurement, not the work measured. */
export function ignoreClient(client: pg.Client): pg.Client {
  (client as CountedClient).__ignored = true;
  return client;
}
