import { fileURLToPath } from 'node:url';
import { type Config, servesStandIns } from '../src/config.ts';
import type { Database } from './client.ts';
import { MIGRATIONS_SCHEMA, MIGRATIONS_TABLE } from './migrations.ts';

/**
 * The drizzle-kit migration streams. Each records what it applied in its own table, since
 * drizzle decides what is pending by comparing journal timestamps with the newest row there.
 * - `production`: db/migrations, the app's tables (drizzle.config.ts); every mode.
 * - `dev`: db/dev-migrations, the local stand-ins' `sim_*` tables (drizzle.dev.config.ts);
 *   embedded mode and tests only, after `production` (docs/adr/0006).
 */
const STREAMS = {
  production: { folder: './migrations', table: MIGRATIONS_TABLE },
  dev: { folder: './dev-migrations', table: '__drizzle_dev_migrations' },
} as const;

export type MigrationStream = keyof typeof STREAMS;

/**
 * Applies the pending drizzle-kit migrations of one stream (reads its folder, so it runs
 * where there is a filesystem: Node, Deno, `npm run db:migrate`). Throws on failure.
 * Processes that start together on one database take turns (an advisory lock): the
 * first applies what is pending, the others then find nothing to do.
 */
export async function migrate(
  database: Database,
  stream: MigrationStream = 'production',
): Promise<void> {
  await database.exclusively(`fleetwarden:migrate:${stream}`, () => applyStream(database, stream));
}

async function applyStream(database: Database, stream: MigrationStream): Promise<void> {
  const config = {
    migrationsFolder: fileURLToPath(new URL(STREAMS[stream].folder, import.meta.url)),
    migrationsSchema: MIGRATIONS_SCHEMA,
    migrationsTable: STREAMS[stream].table,
  };
  switch (database.driver) {
    case 'pglite': {
      const { migrate: run } = await import('drizzle-orm/pglite/migrator');
      // biome-ignore lint/suspicious/noExplicitAny: the migrator wants the driver-specific type
      await run(database.db as any, config);
      return;
    }
    case 'postgres': {
      const { migrate: run } = await import('drizzle-orm/node-postgres/migrator');
      // biome-ignore lint/suspicious/noExplicitAny: as above
      await run(database.db as any, config);
      return;
    }
    case 'neon': {
      const { migrate: run } = await import('drizzle-orm/neon-serverless/migrator');
      // biome-ignore lint/suspicious/noExplicitAny: as above
      await run(database.db as any, config);
      return;
    }
  }
}

/** Both streams, production first: the database embedded mode and the tests run on. */
export async function migrateWithStandIns(database: Database): Promise<void> {
  await migrate(database, 'production');
  await migrate(database, 'dev');
}

/**
 * What a start-up (or `npm run db:migrate`) applies for this configuration: the stand-ins'
 * stream only when it serves them (embedded mode), never in production.
 */
export async function migrateFor(config: Config, database: Database): Promise<void> {
  if (servesStandIns(config)) await migrateWithStandIns(database);
  else await migrate(database, 'production');
}
