// `npm run db:migrate`: applies migrations to DATABASE_URL (for runtimes that do not
// migrate at start, e.g. Vercel).
import { parseConfig } from '../src/config.ts';
import { connect } from './client.ts';
import { migrate } from './migrate.ts';
import { migrationStatus } from './migrations.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  console.error(parsed.message);
  process.exit(1);
}
const database = await connect(parsed.config.database);
try {
  await migrate(database);
  const status = await migrationStatus(database.db);
  console.log(`Migrations applied: ${status.applied}/${status.expected}`);
} finally {
  await database.close();
}
