// Deno and Deno Deploy entry: `deno task start`. Thin: parse config, boot, serve.
import { ensureDataDir, fileHost, listeningLine } from './host.ts';
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
try {
  await ensureDataDir(config);
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
    Deno.exit(0);
  });
}
