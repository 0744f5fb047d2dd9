import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { getTableName, is, sql } from 'drizzle-orm';
import { PgTable } from 'drizzle-orm/pg-core';
import { migrate as drizzleMigrate } from 'drizzle-orm/pglite/migrator';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect, type Db, queryRows } from '../../db/client.ts';
import devJournal from '../../db/dev-migrations/meta/_journal.json' with { type: 'json' };
import * as devSchema from '../../db/dev-schema/index.ts';
import { migrate, migrateWithStandIns } from '../../db/migrate.ts';
import { fileHost } from '../../host.ts';
import { boot } from '../../src/boot.ts';
import { parseConfig } from '../../src/config.ts';
import { IN_PROCESS_ENV } from '../../src/deps.ts';
import { createDevServers } from '../../src/dev-servers/index.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';
import { productionEnv, run } from '../helpers/process.ts';

/** The stand-ins' tables, as db/dev-schema declares them. */
const STAND_IN_TABLES = Object.values(devSchema)
  .filter((value) => is(value, PgTable))
  .map((table) => getTableName(table as PgTable))
  .sort();

/** Stand-in tables added to their stream after the move: an old database never had them. */
const ADDED_SINCE_THE_MOVE = ['sim_outbox_messages'];
const MOVED_TABLES = STAND_IN_TABLES.filter((name) => !ADDED_SINCE_THE_MOVE.includes(name));

async function simTables(db: Db): Promise<string[]> {
  const rows = await queryRows<{ name: string }>(
    db,
    sql`select table_name as name from information_schema.tables
        where table_schema = 'public' and table_name like 'sim\_%' order by 1`,
  );
  return rows.map((r) => r.name);
}

/** Indexes and constraints of the sim_* tables, by name with their definitions. */
async function simDefinitions(db: Db): Promise<string[]> {
  const rows = await queryRows<{ d: string }>(
    db,
    sql`select indexname || ': ' || indexdef as d from pg_indexes
          where schemaname = 'public' and tablename like 'sim\_%'
        union all
        select conname || ': ' || pg_get_constraintdef(oid) from pg_constraint
          where conrelid::regclass::text like 'sim\_%'
        union all
        select table_name || '.' || column_name || ': ' || data_type || ' ' || is_nullable || ' ' ||
            coalesce(column_default, '')
          from information_schema.columns where table_schema = 'public' and table_name like 'sim\_%'
        order by 1`,
  );
  return rows.map((r) => r.d);
}

/** A fresh, empty database on the test server (no template: nothing applied yet). */
async function emptyDatabase(label: string): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `fw_${label}_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, [`create database ${name}`]);
  afterAll(() => adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]));
  return withDatabase(adminUrl, name);
}

describe('the production migration stream', () => {
  it('creates no sim_* table on a fresh database, and no record of the stand-ins stream', async () => {
    const database = await connect({ kind: 'postgres', url: await emptyDatabase('prod') });
    try {
      await migrate(database);
      expect(await simTables(database.db)).toEqual([]);
      const [dev] = await queryRows<{ t: string | null }>(
        database.db,
        sql`select to_regclass('drizzle.__drizzle_dev_migrations')::text as t`,
      );
      expect(dev?.t).toBeNull();
    } finally {
      await database.close();
    }
  });

  it('is all `npm run db:migrate` applies in production mode', async () => {
    const url = await emptyDatabase('cli');
    const cli = run(process.execPath, ['--import', 'tsx', 'db/migrate-cli.ts'], productionEnv(url));
    expect(await cli.exited, cli.output()).toBe(0);
    expect(cli.output()).toMatch(/Migrations applied: (\d+)\/\1/);
    expect(cli.output()).not.toContain('stand-ins');
    const database = await connect({ kind: 'postgres', url }, { maxConnections: 1 });
    try {
      expect(await simTables(database.db)).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

describe('the stand-ins migration stream', () => {
  it('creates exactly the tables of db/dev-schema, after the production stream', async () => {
    expect(MOVED_TABLES).toHaveLength(12);
    expect(STAND_IN_TABLES).toEqual(expect.arrayContaining(ADDED_SINCE_THE_MOVE));
    const database = await connect({ kind: 'postgres', url: await emptyDatabase('dev') });
    try {
      await migrateWithStandIns(database);
      expect(await simTables(database.db)).toEqual(STAND_IN_TABLES);
      // Applying both again changes nothing.
      await migrateWithStandIns(database);
      expect(await simTables(database.db)).toEqual(STAND_IN_TABLES);
    } finally {
      await database.close();
    }
  });
});

// An embedded database created before the stand-ins had a stream of their own: its sim_*
// tables came from the old 0002 and 0003 of db/migrations. The migrations as they were
// are read from git history, at the commit before the move.
const BEFORE_THE_MOVE = '3859babb51d245933ad0e1e2f5893ca53b015d90';

function gitHas(commit: string): boolean {
  try {
    execFileSync('git', ['cat-file', '-e', `${commit}^{commit}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Writes `folder` as it was at `commit` under `into`; returns the copy's path. */
async function checkOut(commit: string, folder: string, into: string): Promise<string> {
  const files = execFileSync('git', ['ls-tree', '-r', '--name-only', commit, folder], {
    encoding: 'utf8',
  })
    .split('\n')
    .filter(Boolean);
  for (const file of files) {
    const target = join(into, file);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, execFileSync('git', ['show', `${commit}:${file}`]));
  }
  return join(into, folder);
}

const history = gitHas(BEFORE_THE_MOVE);
if (!history)
  console.error(
    `migration-streams: git history lacks ${BEFORE_THE_MOVE}; the upgrade test is skipped`,
  );

describe.skipIf(!history)('an embedded database from before the move (PGlite)', async () => {
  const root = await mkdtemp(join(tmpdir(), 'fleetwarden-upgrade-'));
  afterAll(() => rm(root, { recursive: true, force: true }));
  const dataDir = join(root, 'data');
  const pgliteDir = join(dataDir, 'pglite');

  it('had the sim_* tables from the old production stream', async () => {
    const oldMigrations = await checkOut(BEFORE_THE_MOVE, 'db/migrations', join(root, 'old'));
    await mkdir(pgliteDir, { recursive: true });
    const old = await connect({ kind: 'pglite', dataDir: pgliteDir });
    try {
      // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
      await drizzleMigrate(old.db as any, {
        migrationsFolder: oldMigrations,
        migrationsSchema: 'drizzle',
        migrationsTable: '__drizzle_migrations',
      });
      expect(await simTables(old.db)).toEqual(MOVED_TABLES);
      // State the stand-ins kept: a simulated Fly app and a delayed QStash message.
      await old.db.execute(sql`insert into sim_fly_apps (name, id) values ('kept-app', 'app_1')`);
      await old.db.execute(sql`insert into sim_qstash_messages
          (message_id, destination, not_before, next_attempt_at, created_at)
          values ('msg_kept', 'http://localhost:8787/api/callbacks/sweep', now() + interval '1 day',
                  now() + interval '1 day', now())`);
    } finally {
      await old.close();
    }
  });

  it('starts on the new streams with its stand-ins state intact', async () => {
    const parsed = parseConfig({ FLEETWARDEN_MODE: 'embedded', DATA_DIR: dataDir });
    if (!parsed.ok) throw new Error(parsed.message);
    const { config } = parsed;
    expect(config.database).toEqual({ kind: 'pglite', dataDir: pgliteDir });
    const host = fileHost(config, {
      write: () => {},
      devServers: async (input) => createDevServers(input),
    });
    const booted = await boot(config, { ...host, print: () => {} });
    try {
      const ready = await booted.app.request('/readyz');
      expect(ready.status).toBe(200);
      const fly = await booted.app.request(
        '/__dev/fly/v1/apps/kept-app',
        { headers: { Authorization: `Bearer ${config.fly.token}` } },
        IN_PROCESS_ENV,
      );
      expect(fly.status).toBe(200);
      expect(await fly.json()).toMatchObject({ name: 'kept-app' });
      const message = await booted.app.request(
        '/__dev/qstash/v2/messages/msg_kept',
        { headers: { Authorization: `Bearer ${config.qstash.token}` } },
        IN_PROCESS_ENV,
      );
      expect(message.status).toBe(200);
      const [recorded] = await queryRows<{ n: number }>(
        booted.deps.db,
        sql`select count(*)::int as n from drizzle.__drizzle_dev_migrations`,
      );
      // The old tables are adopted as the stream's first migration; later ones are applied.
      expect(recorded?.n).toBe(devJournal.entries.length);
    } finally {
      await booted.close();
    }
  });

  it('ends with the same sim_* definitions as a database made fresh on the new streams', async () => {
    const upgraded = await connect({ kind: 'pglite', dataDir: pgliteDir });
    const fresh = await connect({ kind: 'pglite', dataDir: null });
    try {
      await migrateWithStandIns(fresh);
      const expected = await simDefinitions(fresh.db);
      expect(expected.length).toBeGreaterThan(100);
      expect(await simDefinitions(upgraded.db)).toEqual(expected);
    } finally {
      await upgraded.close();
      await fresh.close();
    }
  });
});
