// `npm run db:migrate`: applies migrations to DATABASE_URL (for runtimes that do not
// migrate at start, e.g. Vercel). In embedded mode also the local stand-ins' stream
// (db/dev-migrations); in production never (docs/adr/0006).
import { parseConfig, servesStandIns } from '../src/config.ts';
import { connect } from './client.ts';
import { migrateFor } from './migrate.ts';
import { migrationStatus } from './migrations.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  console.error(parsed.message);
  process.exit(1);
}
const database = await connect(parsed.config.database);
try {
  await migrateFor(parsed.config, database);
  const status = await migrationStatus(database.db);
  console.log(`Migrations applied: ${status.applied}/${status.expected}`);
  if (servesStandIns(parsed.config))
    console.log('Local stand-ins (embedded mode): db/dev-migrations applied too');
} finally {
  await database.close();
}
