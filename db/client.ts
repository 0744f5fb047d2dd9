import { type SQL, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { DatabaseTarget } from '../src/config.ts';
import * as schema from './schema/index.ts';

/** The drizzle database every feature receives; a transaction (`tx`) has the same type. */
export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export type Driver = 'pglite' | 'postgres' | 'neon';

/** An open database: the drizzle handle plus what start-up and shutdown need. */
export type Database = {
  db: Db;
  driver: Driver;
  /** Closes the pool or the embedded database. Idempotent. */
  close(): Promise<void>;
  /**
   * Runs `fn` holding PostgreSQL's session advisory lock `key` (on a connection of its own,
   * outside the pool, closed after), so processes that share the database run it one at a
   * time (migrations at start). PGlite has one connection and one process: `fn` just runs.
   */
  exclusively<T>(key: string, fn: () => Promise<T>): Promise<T>;
};

type LockClient = {
  connect(): Promise<unknown>;
  query(text: string, values: unknown[]): Promise<unknown>;
  end(): Promise<void>;
};

/**
 * {@link Database.exclusively} on a connection of its own, outside the pool (a pool of one,
 * as at start-up, must stay free for `fn`'s own queries).
 */
function advisoryLock(open: () => LockClient): Database['exclusively'] {
  return async (key, fn) => {
    const client = open();
    await client.connect();
    try {
      await client.query('select pg_advisory_lock(hashtext($1))', [key]);
      return await fn();
    } finally {
      // Ending the session releases its advisory locks.
      await client.end();
    }
  };
}

export type ConnectOptions = {
  /** Pool size for `postgres` and `neon` (default 10). */
  maxConnections?: number;
  /** Neon through a local WebSocket-to-TCP proxy (tests): `ws://host:port/v1`. */
  neonWsProxy?: string;
};

const casing = 'snake_case' as const;

/**
 * Opens the database a {@link DatabaseTarget} names. Drivers load lazily so a runtime only
 * pays for the one it uses.
 *
 * - `pglite`: embedded PostgreSQL (WASM) in a folder, or in memory; one connection, so
 *   transactions run one at a time.
 * - `postgres`: node-postgres `Pool` (Node, Deno).
 * - `neon`: `@neondatabase/serverless` `Pool` over WebSocket, so interactive transactions
 *   work (https://neon.com/docs/serverless/serverless-driver).
 */
export async function connect(
  target: DatabaseTarget,
  options: ConnectOptions = {},
): Promise<Database> {
  const max = options.maxConnections ?? 10;
  if (target.kind === 'pglite') {
    const { PGlite } = await import('@electric-sql/pglite');
    const { pg_trgm } = await import('@electric-sql/pglite/contrib/pg_trgm');
    const { drizzle } = await import('drizzle-orm/pglite');
    const client = await PGlite.create(target.dataDir ?? undefined, { extensions: { pg_trgm } });
    const db = drizzle({ client, schema, casing }) as unknown as Db;
    return {
      db,
      driver: 'pglite',
      close: once(() => client.close()),
      exclusively: (_key, fn) => fn(),
    };
  }
  if (target.kind === 'postgres') {
    const { default: pg } = await import('pg');
    const { drizzle } = await import('drizzle-orm/node-postgres');
    const pool = new pg.Pool({ connectionString: target.url, max });
    // An idle client that loses its connection must not crash the process.
    pool.on('error', () => {});
    const db = drizzle({ client: pool, schema, casing }) as unknown as Db;
    return {
      db,
      driver: 'postgres',
      close: once(() => pool.end()),
      exclusively: advisoryLock(() => new pg.Client({ connectionString: target.url })),
    };
  }
  const { Client, Pool, neonConfig } = await import('@neondatabase/serverless');
  const { drizzle } = await import('drizzle-orm/neon-serverless');
  if (typeof globalThis.WebSocket === 'undefined') {
    const { WebSocket } = await import('ws');
    neonConfig.webSocketConstructor = WebSocket;
  }
  if (options.neonWsProxy) {
    const proxy = options.neonWsProxy;
    const base = proxy.replace(/^wss?:\/\//, '');
    neonConfig.wsProxy = (host, port) => `${base}?address=${host}:${port}`;
    neonConfig.useSecureWebSocket = proxy.startsWith('wss://');
    neonConfig.pipelineConnect = false;
    neonConfig.pipelineTLS = false;
  }
  const pool = new Pool({ connectionString: target.url, max });
  pool.on('error', () => {});
  const db = drizzle({ client: pool, schema, casing }) as unknown as Db;
  return {
    db,
    driver: 'neon',
    close: once(() => pool.end()),
    exclusively: advisoryLock(() => new Client({ connectionString: target.url })),
  };
}

/**
 * Rows of a raw SQL query. Every driver we use (pg, Neon, PGlite) answers `execute` with
 * `{ rows }`; drizzle's generic database type cannot say so, hence this one cast.
 */
export async function queryRows<T>(db: Db, query: SQL): Promise<T[]> {
  const result = (await db.execute(query)) as unknown as { rows: T[] };
  return result.rows;
}

/** `SELECT 1` through the pool: true when the database answers. */
export async function ping(db: Db): Promise<boolean> {
  try {
    await db.execute(sql`select 1`);
    return true;
  } catch {
    return false;
  }
}

function once(fn: () => Promise<unknown>): () => Promise<void> {
  let done: Promise<void> | null = null;
  return () => {
    done ??= fn().then(() => undefined);
    return done;
  };
}
