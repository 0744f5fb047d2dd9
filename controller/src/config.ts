// The controller's configuration: an optional JSON file (FLEETWARDEN_CONTROLLER_CONFIG) with
// environment variables on top, checked once at start-up. Every default is here; the
// README's "Configuration" table lists the same names.
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { LogLevel } from './log.ts';

/** How to run one command: argv with `{…}` placeholders (template.ts), never a shell string. */
export type CommandSpec = { command: string[]; cwd: string | null; env: Record<string, string> };

export type ControllerConfig = {
  /** FLEETWARDEN_CONTROLLER_TOKEN: the bearer token every request must carry. */
  token: string;
  host: string;
  port: number;
  /** Runs, sessions and their logs live here (store.ts). */
  dataDir: string;
  /** SIGTERM to the process group, then SIGKILL after this many ms. */
  graceMs: number;
  /** Ended runs and sessions older than this many days are deleted (at start, then hourly). */
  retainDays: number;
  logLevel: LogLevel;
  /** null: no CLI-run command configured, a start is refused (400). */
  cliRun: (CommandSpec & { maxDurationMs: number }) | null;
  sessions: {
    /** Per agent id; an agent not named here uses `default` (null: refused, 400). */
    agents: Record<string, CommandSpec>;
    default: CommandSpec | null;
    maxDurationMs: number;
  };
};

export const DEFAULTS = {
  host: '0.0.0.0',
  port: 8788,
  dataDir: join(tmpdir(), 'fleetwarden-controller'),
  gracePeriodSeconds: 10,
  retainDays: 7,
  logLevel: 'info' as LogLevel,
  cliRunMaxDurationSeconds: 3600,
  sessionMaxDurationSeconds: 6 * 3600,
};

const E = 'FLEETWARDEN_CONTROLLER_';
type Json = Record<string, unknown>;

class ConfigError extends Error {}
const fail = (message: string): never => {
  throw new ConfigError(message);
};

function object(value: unknown, where: string): Json {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(`${where} must be a JSON object`);
  return value as Json;
}

function seconds(value: unknown, where: string, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = typeof value === 'string' ? Number(value) : value;
  if (typeof n !== 'number' || !Number.isFinite(n) || n <= 0)
    fail(`${where} must be a positive number of seconds`);
  return n as number;
}

function argv(value: unknown, where: string): string[] {
  const parsed = typeof value === 'string' ? parseJson(value, where) : value;
  if (
    !Array.isArray(parsed) ||
    parsed.length === 0 ||
    !parsed.every((a) => typeof a === 'string') ||
    parsed[0] === ''
  )
    fail(`${where} must be a non-empty JSON array of strings (argv, no shell)`);
  return parsed as string[];
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    return fail(`${where} is not JSON: ${(error as Error).message}`);
  }
}

function readConfig(readFile: (path: string) => string, path: string): string {
  try {
    return readFile(path);
  } catch (error) {
    return fail(`${E}CONFIG: cannot read ${path}: ${(error as Error).message}`);
  }
}

function spec(value: unknown, where: string, command?: unknown): CommandSpec | null {
  const o = object(value, where);
  const cmd = command ?? o.command;
  if (cmd === undefined) return null;
  const env = object(o.env, `${where}.env`);
  for (const [k, v] of Object.entries(env))
    if (typeof v !== 'string') fail(`${where}.env.${k} must be a string`);
  if (o.cwd !== undefined && typeof o.cwd !== 'string') fail(`${where}.cwd must be a path`);
  return {
    command: argv(cmd, `${where}.command`),
    cwd: typeof o.cwd === 'string' ? resolve(o.cwd) : null,
    env: env as Record<string, string>,
  };
}

/**
 * The configuration from `env` (and the JSON file FLEETWARDEN_CONTROLLER_CONFIG names, read
 * with `readFile`), or a message naming the first bad setting.
 */
export function parseConfig(
  env: Record<string, string | undefined>,
  readFile: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): { ok: true; config: ControllerConfig } | { ok: false; message: string } {
  try {
    const token = env[`${E}TOKEN`];
    if (!token) fail(`${E}TOKEN is required (the bearer token the control plane sends)`);
    const path = env[`${E}CONFIG`];
    const file = path ? object(parseJson(readConfig(readFile, path), path), path) : {};
    const port = Number(env[`${E}PORT`] ?? file.port ?? DEFAULTS.port);
    if (!Number.isInteger(port) || port < 0 || port > 65_535) fail('port must be 0–65535');
    const level = env[`${E}LOG_LEVEL`] ?? file.logLevel ?? DEFAULTS.logLevel;
    if (!['debug', 'info', 'warn', 'error'].includes(String(level)))
      fail('logLevel must be debug, info, warn or error');
    const cli = object(file.cliRun, 'cliRun');
    const cliSpec = spec(cli, 'cliRun', env[`${E}CLI_COMMAND`]);
    const ses = object(file.sessions, 'sessions');
    const agents: Record<string, CommandSpec> = {};
    for (const [id, value] of Object.entries(object(ses.agents, 'sessions.agents'))) {
      const s = spec(value, `sessions.agents.${id}`);
      if (!s) fail(`sessions.agents.${id}.command is required`);
      agents[id] = s as CommandSpec;
    }
    const config: ControllerConfig = {
      token: token as string,
      host: String(env[`${E}HOST`] ?? file.host ?? DEFAULTS.host),
      port,
      dataDir: resolve(String(env[`${E}DATA_DIR`] ?? file.dataDir ?? DEFAULTS.dataDir)),
      graceMs:
        1000 *
        seconds(
          env[`${E}GRACE_PERIOD_SECONDS`] ?? file.gracePeriodSeconds,
          'gracePeriodSeconds',
          DEFAULTS.gracePeriodSeconds,
        ),
      retainDays: seconds(file.retainDays, 'retainDays', DEFAULTS.retainDays),
      logLevel: level as LogLevel,
      cliRun: cliSpec && {
        ...cliSpec,
        maxDurationMs:
          1000 *
          seconds(
            env[`${E}CLI_MAX_DURATION_SECONDS`] ?? cli.maxDurationSeconds,
            'cliRun.maxDurationSeconds',
            DEFAULTS.cliRunMaxDurationSeconds,
          ),
      },
      sessions: {
        agents,
        default: spec(ses, 'sessions', env[`${E}SESSION_COMMAND`]),
        maxDurationMs:
          1000 *
          seconds(
            env[`${E}SESSION_MAX_DURATION_SECONDS`] ?? ses.maxDurationSeconds,
            'sessions.maxDurationSeconds',
            DEFAULTS.sessionMaxDurationSeconds,
          ),
      },
    };
    return { ok: true, config };
  } catch (error) {
    if (error instanceof ConfigError) return { ok: false, message: error.message };
    throw error;
  }
}
