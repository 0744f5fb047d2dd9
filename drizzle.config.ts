import { defineConfig } from 'drizzle-kit';

// Generates SQL migrations from db/schema; they are committed and run at start-up
// (Node, Deno) or with `npm run db:migrate` (Vercel).
export default defineConfig({
  dialect: 'postgresql',
  schema: './db/schema/index.ts',
  out: './db/migrations',
  casing: 'snake_case',
});
