import { fileURLToPath } from 'node:url';
import type { Database } from './client.ts';
import { MIGRATIONS_SCHEMA, MIGRATIONS_TABLE } from './migrations.ts';

const migrationsFolder = fileURLToPath(new URL('./migrations', import.meta.url));

/**
 * Applies pending drizzle-kit migrations from `db/migrations` (reads the folder, so it
 * runs where there is a filesystem: Node, Deno, `npm run db:migrate`). Throws on failure.
 */
export async function migrate(database: Database): Promise<void> {
  const config = {
    migrationsFolder,
    migrationsSchema: MIGRATIONS_SCHEMA,
    migrationsTable: MIGRATIONS_TABLE,
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
