import { type ChildProcess, spawn } from 'node:child_process';
import { createServer } from 'node:net';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

export type Running = {
  child: ChildProcess;
  output(): string;
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
  stop(): Promise<number | null>;
};

/**
 * Spawns a command with exactly `env` (plus PATH and HOME) and captures stdout + stderr.
 * With `group`, it gets its own process group and `stop()` signals the whole group: for a
 * launcher such as `deno task`, whose child would otherwise outlive it.
 */
export function run(
  command: string,
  args: string[],
  env: Record<string, string>,
  cwd = process.cwd(),
  options: { group?: boolean } = {},
): Running {
  const child = spawn(command, args, {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: options.group ?? false,
  });
  const signal = (name: NodeJS.Signals) => {
    if (options.group && child.pid) {
      try {
        process.kill(-child.pid, name);
      } catch {
        // The group is gone already.
      }
    } else child.kill(name);
  };
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null || options.group) signal('SIGTERM');
      const timer = setTimeout(() => signal('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}

/** Waits until the output matches `pattern` (or the process exits, or time runs out). */
export async function waitForOutput(
  p: Running,
  pattern: RegExp,
  timeoutMs = 60_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = p.output().match(pattern);
    if (match) return match;
    if (p.child.exitCode !== null)
      throw new Error(`process exited (${p.child.exitCode}) before ${pattern}:\n${p.output()}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${p.output()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The Node entry exactly as `npm start` runs it (tsx). */
export function startNode(env: Record<string, string>): Running {
  return run(process.execPath, ['--import', 'tsx', 'node.ts'], env);
}

/**
 * A complete production environment on `databaseUrl` whose Fly and QStash credentials are
 * well-formed but reach nothing: QStash and Fly point at a closed local port, so start-up
 * work against them (the sweep schedule) fails, is logged, and the app still serves.
 */
export function productionEnv(databaseUrl: string, port = 9): Record<string, string> {
  return {
    FLEETWARDEN_MODE: 'production',
    DATABASE_URL: databaseUrl,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
    PORT: String(port),
    SESSION_SECRET: 'production-test-session-secret-0123456789',
    CONTROLLER_SECRET: 'production-test-controller-secret-0123456789',
    QSTASH_URL: 'http://127.0.0.1:9',
    QSTASH_TOKEN: 'qstash-token-for-tests',
    QSTASH_CURRENT_SIGNING_KEY: 'sig_current_for_tests',
    QSTASH_NEXT_SIGNING_KEY: 'sig_next_for_tests',
    FLY_API_URL: 'http://127.0.0.1:9',
    FLY_API_TOKEN: 'fly-token-for-tests',
    LOG_LEVEL: 'warn',
  };
}
