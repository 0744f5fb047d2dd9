import { defineConfig } from 'drizzle-kit';

// The local stand-ins' tables (db/dev-schema: the Fly simulator's and the QStash emulator's
// sim_* tables) in a migration stream of their own, db/dev-migrations, which embedded mode
// and the tests apply after db/migrations and production never does (docs/adr/0006).
// `npm run db:generate:dev` writes a migration after changing db/dev-schema.
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/dev-schema/index.ts',
  out: './db/dev-migrations',
  casing: 'snake_case',
});
