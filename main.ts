// Deno and Deno Deploy entry: `deno task start`. Thin: parse config, boot, serve.
import { assertPortFree, ensureDataDir, fileHost, listeningLine, lockDataDir } from './host.ts';
import { boot, type Host } from './src/boot.ts';
import { parseConfig } from './src/config.ts';

// Embedded mode's local stand-ins, imported only when boot asks for them, so a production
// start never loads src/dev-servers.
const devServers: NonNullable<Host['devServers']> = async (input) =>
  (await import('./src/dev-servers/index.ts')).createDevServers(input);

const parsed = parseConfig(Deno.env.toObject());
if (!parsed.ok) {
  console.error(parsed.message);
  Deno.exit(1);
}
const { config } = parsed;
let booted: Awaited<ReturnType<typeof boot>>;
let unlock: (() => void) | null = null;
try {
  await ensureDataDir(config);
  // A local data folder (`deno task start`): one process per folder, and a free port,
  // both checked before the database opens. Deno Deploy has no folder and picks the port.
  unlock = await lockDataDir(config);
  if (unlock) await assertPortFree(config);
  booted = await boot(config, fileHost(config, { devServers }));
} catch (err) {
  console.error(`fleetwarden failed to start: ${err instanceof Error ? err.message : String(err)}`);
  Deno.exit(1);
}
const server = Deno.serve(
  {
    port: config.port,
    // No hostname (production default): Deno listens on every interface.
    ...(config.host ? { hostname: config.host } : {}),
    onListen: ({ hostname, port }) => {
      console.log(listeningLine(hostname, port));
      void booted.started();
    },
  },
  booted.app.fetch,
);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  Deno.addSignalListener(signal, async () => {
    await server.shutdown();
    await booted.close();
    unlock?.();
    Deno.exit(0);
  });
}
