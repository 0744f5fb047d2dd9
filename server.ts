// Vercel entry (zero-config: a default-exported Hono app). Migrations do not run here:
// run `npm run db:migrate` against the database during the build or before deploying.
import { fileHost } from './host.ts';
import { boot } from './src/boot.ts';
import { parseConfig } from './src/config.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) throw new Error(parsed.message);
const booted = await boot(parsed.config, fileHost(parsed.config, { migrate: false }));

// Vercel has no "listening" moment; the sweep schedule is upserted on the first cold start.
void booted.started();

export default booted.app;
