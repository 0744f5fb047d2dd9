// Start-up helpers for the filesystem runtimes (Node and Deno; Deno runs node: modules).
// Kept out of src/ so the app itself depends only on Web standards.
import { unlinkSync } from 'node:fs';
import { mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import process from 'node:process';
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

/**
 * The console's browser files: our own from views/assets/ (app.js, app.css, api-docs.js;
 * routes/assets.ts fingerprints them) and the pinned libraries from node_modules under
 * versioned paths (ADR 0002). A missing library leaves the console working as plain forms;
 * a missing file of our own is a broken checkout and fails the start.
 */
export async function loadStaticAssets(): Promise<StaticAsset[]> {
  const own = async (name: string, contentType: string, role: StaticAsset['role']) => ({
    path: name,
    contentType,
    body: await readFile(join(root, 'views', 'assets', name), 'utf8'),
    role,
  });
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
  const ours = await Promise.all([
    own('app.js', 'text/javascript; charset=utf-8', 'app-js'),
    own('app.css', 'text/css; charset=utf-8', 'app-css'),
    own('api-docs.js', 'text/javascript; charset=utf-8', 'api-docs-js'),
  ]);
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
  return [...ours, ...files.filter((f): f is StaticAsset => f !== null)];
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
    staticAssets: loadStaticAssets,
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

/** Who holds a PGlite data folder: written into its lock file by {@link lockDataDir}. */
type LockHolder = { pid: number; url: string; startedAt: string };

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is another user's.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/**
 * Takes the PGlite data folder for this process before the database is opened: PGlite
 * allows one process per folder, and a second one migrating it under the first corrupts
 * it. The lock is a file beside the folder (`<folder>.lock`, created exclusively) naming
 * the holder's pid, URL and start time; one whose process is gone (a kill -9) is taken
 * over. Throws an Error naming the running holder when it is alive. Returns the release
 * (also run at exit), or null when there is no folder to lock (PostgreSQL, in memory).
 */
export async function lockDataDir(config: Config): Promise<(() => void) | null> {
  if (config.database.kind !== 'pglite' || !config.database.dataDir) return null;
  const folder = config.database.dataDir.replace(/\/+$/, '');
  const path = `${folder}.lock`;
  const me: LockHolder = {
    pid: process.pid,
    url: `http://localhost:${config.port}`,
    startedAt: new Date().toISOString(),
  };
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, 'wx');
      await file.writeFile(`${JSON.stringify(me)}\n`);
      await file.close();
      const release = () => {
        try {
          unlinkSync(path);
        } catch {
          // Gone already.
        }
      };
      process.once('exit', release);
      return release;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    let holder: LockHolder | null = null;
    try {
      holder = JSON.parse(await readFile(path, 'utf8')) as LockHolder;
    } catch {
      // Half-written or unreadable: its writer is starting or died while writing.
    }
    if (holder && alive(holder.pid))
      throw new Error(
        `fleetwarden is already running with this data folder (pid ${holder.pid}, ${holder.url}, since ${holder.startedAt}): ${folder} is in use. Stop it first, or set DATA_DIR to start another one.`,
      );
    await unlink(path).catch(() => {});
  }
  throw new Error(`could not lock ${folder} (${path} keeps coming back)`);
}

/**
 * Fails with a clear Error when `config.port` cannot be listened on (on `config.host`, or
 * every interface as the server does), so a start never opens its database only to find
 * the port taken.
 */
export async function assertPortFree(config: Config): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    const probe = createServer();
    probe.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `port ${config.port} is in use by another program (another fleetwarden?): stop it, or set PORT`,
            )
          : err,
      ),
    );
    probe.listen({ port: config.port, ...(config.host ? { host: config.host } : {}) }, () =>
      probe.close(() => resolve()),
    );
  });
}
