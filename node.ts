// Node entry: `npm start` (tsx node.ts). Thin: parse config, boot, serve, shut down.
import { serve } from '@hono/node-server';
import { assertPortFree, ensureDataDir, fileHost, listeningLine, lockDataDir } from './host.ts';
import { boot, type Host } from './src/boot.ts';
import { parseConfig } from './src/config.ts';

// Embedded mode's local stand-ins, imported only when boot asks for them, so a production
// start never loads src/dev-servers.
const devServers: NonNullable<Host['devServers']> = async (input) =>
  (await import('./src/dev-servers/index.ts')).createDevServers(input);

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  console.error(parsed.message);
  process.exit(1);
}
const { config } = parsed;
const failed = (err: unknown): never => {
  console.error(`fleetwarden failed to start: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
};
// Before the database opens: one process per data folder (a second one would migrate it
// under the first), and a port that is free (not found out only after opening it).
await ensureDataDir(config).catch(failed);
const unlock = await lockDataDir(config).catch(failed);
await assertPortFree(config).catch(failed);
const booted = await boot(config, fileHost(config, { devServers })).catch(failed);
// No hostname (production default): Node listens on every interface.
const listen = { fetch: booted.app.fetch, port: config.port };
const server = serve(config.host ? { ...listen, hostname: config.host } : listen, (info) => {
  console.log(listeningLine(info.address, info.port));
  void booted.started();
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  booted.deps.log.info('process.stop', { signal });
  server.close();
  await booted.close();
  unlock?.();
  process.exit(0);
}
process.on('SIGINT', () => void stop('SIGINT'));
process.on('SIGTERM', () => void stop('SIGTERM'));
