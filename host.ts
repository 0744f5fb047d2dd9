// Start-up helpers for the filesystem runtimes (Node and Deno; Deno runs node: modules).
// Kept out of src/ so the app itself depends only on Web standards.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { migrateFor } from './db/migrate.ts';
import type { StaticAsset } from './src/assets.ts';
import type { Host } from './src/boot.ts';
import type { Config } from './src/config.ts';
import { jsonLogger } from './src/lib/log.ts';

const root = fileURLToPath(new URL('.', import.meta.url));

async function packageVersion(name: string): Promise<string> {
  const pkg = JSON.parse(await readFile(join(root, 'node_modules', name, 'package.json'), 'utf8'));
  return String(pkg.version);
}

/** Reads the pinned browser libraries from node_modules under versioned paths. */
export async function loadVendorAssets(): Promise<StaticAsset[]> {
  const file = async (
    pkg: string,
    rel: string,
    contentType: string,
    role: StaticAsset['role'],
  ): Promise<StaticAsset | null> => {
    try {
      const body = new Uint8Array(await readFile(join(root, 'node_modules', pkg, rel)));
      return {
        path: `vendor/${pkg}@${await packageVersion(pkg)}/${rel.split('/').pop()}`,
        contentType,
        body,
        role,
      };
    } catch {
      return null; // The console still works as plain HTML forms without it.
    }
  };
  const files = await Promise.all([
    file('htmx.org', 'dist/htmx.min.js', 'text/javascript; charset=utf-8', 'htmx'),
    file(
      'swagger-ui-dist',
      'swagger-ui-bundle.js',
      'text/javascript; charset=utf-8',
      'swagger-ui-js',
    ),
    file('swagger-ui-dist', 'swagger-ui.css', 'text/css; charset=utf-8', 'swagger-ui-css'),
  ]);
  return files.filter((f): f is StaticAsset => f !== null);
}

/**
 * The peer address from the per-request env: @hono/node-server passes `{ incoming }`
 * (a Node socket), Deno.serve passes `{ remoteAddr }`.
 */
export function peerAddress(env: unknown): string | null {
  const e = env as
    | { incoming?: { socket?: { remoteAddress?: string } }; remoteAddr?: { hostname?: string } }
    | undefined;
  return e?.incoming?.socket?.remoteAddress ?? e?.remoteAddr?.hostname ?? null;
}

/** The line both entries print once the server listens (tests wait for it). */
export function listeningLine(hostname: string, port: number): string {
  return `Listening on http://${hostname.includes(':') ? `[${hostname}]` : hostname}:${port}`;
}

/**
 * Creates the PGlite data folder (and its parents) before the database opens: PGlite
 * creates only the last folder, so a fresh clone without `./.data` failed with ENOENT.
 * Nothing to do for PostgreSQL, Neon or an in-memory PGlite.
 */
export async function ensureDataDir(config: Config): Promise<void> {
  if (config.database.kind === 'pglite' && config.database.dataDir)
    await mkdir(config.database.dataDir, { recursive: true });
}

/**
 * A {@link Host} with a filesystem: data folder, secrets, migrations at start. `devServers`
 * is the embedded entries' loader of the local stand-ins (see `Host.devServers`); it is
 * passed in rather than imported here because server.ts (Vercel, production only) uses
 * this module too and must not reference src/dev-servers at all.
 */
export function fileHost(
  config: Config,
  options: {
    migrate?: boolean;
    write?: (line: string) => void;
    devServers?: Host['devServers'];
  } = {},
): Host {
  const write = options.write ?? ((line: string) => console.log(line));
  const dataDir = config.dataDir;
  return {
    log: jsonLogger({ level: config.logLevel, write }),
    print: (line) => console.log(line),
    async readSecret(name) {
      try {
        return (await readFile(join(dataDir, name), 'utf8')).trim() || null;
      } catch {
        return null;
      }
    },
    async writeSecret(name, value) {
      await mkdir(dataDir, { recursive: true });
      await writeFile(join(dataDir, name), `${value}\n`, { mode: 0o600 });
    },
    vendorAssets: loadVendorAssets,
    peerAddress,
    ...(options.devServers ? { devServers: options.devServers } : {}),
    ...(options.migrate === false
      ? {}
      : {
          // Embedded mode also applies the stand-ins' stream (db/dev-migrations); production never.
          async migrate(database) {
            await migrateFor(config, database);
          },
        }),
  };
}
