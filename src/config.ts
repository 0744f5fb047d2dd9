// The environment in one file, on purpose: every variable with its bounds, default and
// message sits beside the others, so parseConfig names every bad one at once and nothing
// else reads the environment. Long because the variables are many, not because it does two things.
import { z } from 'zod';
import { LOCAL_QSTASH } from './adapters/queue/local-credentials.ts';

/** A whole number of seconds in [min, max]. */
function seconds(min: number, max: number) {
  return z.coerce
    .number({ error: 'must be a number of seconds' })
    .int('must be a whole number of seconds')
    .min(min, `must be at least ${min}`)
    .max(max, `must be at most ${max}`);
}

/**
 * The environment fleetwarden reads, parsed once at start-up by the runtime entry and
 * handed to everything else as a {@link Config}. Nothing reads the environment after this.
 * Every default lives here.
 */
const Env = z.object({
  FLEETWARDEN_MODE: z.enum(['embedded', 'production']).optional(),
  NODE_ENV: z.string().optional(),
  PORT: z.coerce
    .number({ error: 'must be a port number' })
    .int('must be a whole number')
    .min(1, 'must be between 1 and 65535')
    .max(65535, 'must be between 1 and 65535')
    .default(8787),
  HOST: z
    .string()
    .regex(/^[A-Za-z0-9.:-]+$/, 'must be a host name or IP address, e.g. 127.0.0.1 or 0.0.0.0')
    .optional(),
  PUBLIC_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  SESSION_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CONTROLLER_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  USER_TOKEN_SECRET: z.string().min(32, 'must be at least 32 characters').optional(),
  CONTROLLER_REQUEST_TIMEOUT_SECONDS: seconds(1, 60).default(10),
  CLI_RUN_MAX_MINUTES: z.coerce
    .number({ error: 'must be a number of minutes' })
    .int('must be a whole number of minutes')
    .min(1, 'must be at least 1')
    .max(1440, 'must be at most 1440')
    .default(30),
  CLI_RUN_MAX_OUTPUT_MB: z.coerce
    .number({ error: 'must be a number of MiB' })
    .int('must be a whole number of MiB')
    .min(1, 'must be at least 1')
    .max(10_240, 'must be at most 10240')
    .default(64),
  ADMIN_EMAIL: z.email('must be an email address').optional(),
  ADMIN_PASSWORD: z.string().min(12, 'must be at least 12 characters').optional(),
  ADMIN_API_TOKEN: z
    .string()
    .regex(/^fwa_[A-Za-z0-9]{40}$/, 'must be fwa_ followed by 40 letters or digits')
    .optional(),
  PLATFORM_API_KEY: z
    .string()
    .regex(/^fwp_[A-Za-z0-9]{40}$/, 'must be fwp_ followed by 40 letters or digits')
    .optional(),
  RESEND_API_KEY: z.string().min(1).optional(),
  RESEND_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  EMAIL_FROM: z.string().min(3).optional(),
  EXPO_ACCESS_TOKEN: z.string().min(1).optional(),
  EXPO_PUSH_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  EMAIL_REQUESTS_PER_SECOND: z.coerce
    .number({ error: 'must be a number' })
    .positive('must be above 0')
    .max(1000, 'must be at most 1000')
    .default(2),
  PUSH_REQUESTS_PER_SECOND: z.coerce
    .number({ error: 'must be a number' })
    .positive('must be above 0')
    .max(1000, 'must be at most 1000')
    .default(6),
  NOTICES_CONCURRENCY: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(32, 'must be at most 32')
    .default(4),
  TRUST_PROXY_HEADER: z
    .string()
    .regex(/^[A-Za-z0-9-]+$/, 'must be a header name, e.g. Fly-Client-IP')
    .optional(),
  FLY_API_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  FLY_API_TOKEN: z.string().min(1).optional(),
  FLY_APP_NAME: z
    .string()
    .regex(
      /^[a-z0-9][a-z0-9-]{1,61}$/,
      'must be a Fly app name (lower-case letters, digits, dashes)',
    )
    .default('fleetwarden-agents'),
  FLY_SIMULATOR_TIME_SCALE: z.coerce
    .number({ error: 'must be a number' })
    .positive('must be above 0')
    .max(100, 'must be at most 100')
    .default(1),
  FLY_SIMULATOR_CONTROLLER_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .optional(),
  FLY_SIMULATOR_CONTROLLER_TOKEN: z.string().min(1).default('dev-controller-token'),
  QSTASH_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
  QSTASH_TOKEN: z.string().min(1).optional(),
  QSTASH_CURRENT_SIGNING_KEY: z.string().min(1).optional(),
  QSTASH_NEXT_SIGNING_KEY: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  CLAIM_LEASE_SECONDS: seconds(1, 3600).default(60),
  STEP_BUDGET_SECONDS: seconds(1, 60).default(5),
  FLY_REQUEST_TIMEOUT_SECONDS: seconds(1, 120).default(10),
  SCHEDULER_MAX_IN_FLIGHT: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(100_000, 'must be at most 100000')
    .default(1000),
  RECOVERY_ENABLED: z.enum(['true', 'false'], { error: 'must be true or false' }).default('true'),
  RECOVERY_IN_PLACE_ATTEMPTS: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(0, 'must be at least 0')
    .max(10, 'must be at most 10')
    .default(1),
  RECOVERY_RELOCATION_ENABLED: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('true'),
  RECOVERY_RETAIN_DAYS: z.coerce
    .number({ error: 'must be a number of days' })
    .int('must be a whole number of days')
    .min(1, 'must be at least 1')
    .max(60, 'must be at most 60 (Fly keeps snapshots at most 60 days)')
    .default(7),
  RECOVERY_FALLBACK_REGIONS: z
    .string()
    .regex(/^[a-z0-9]+(,[a-z0-9]+)*$/, 'must be Fly region codes separated by commas, e.g. fra,cdg')
    .optional(),
  RECOVERY_UNREACHABLE_SECONDS: seconds(0, 3600).default(120),
  RECOVERY_WAIT_MAX_SECONDS: seconds(1, 3600).default(300),
  RECOVERY_RETRY_MAX_SECONDS: seconds(1, 86_400).default(3600),
  RECOVERY_STEP_RETRIES: z.coerce
    .number({ error: 'must be a number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(20, 'must be at most 20')
    .default(3),
});

export type Mode = 'embedded' | 'production';

export type DatabaseTarget =
  | { kind: 'pglite'; dataDir: string | null } // null: in memory (`memory://`)
  | { kind: 'postgres'; url: string }
  | { kind: 'neon'; url: string };

/** What the app knows about its environment. Built only by {@link parseConfig}. */
export type Config = {
  mode: Mode;
  port: number;
  /**
   * Interface to listen on. Embedded mode: `127.0.0.1` unless `HOST` says otherwise, since
   * its local stand-ins use published credentials. Production: `HOST`, else null (the
   * runtime's default: every interface).
   */
  host: string | null;
  /** Origin the app is reached at, without a trailing slash (used for cookies and callbacks). */
  publicUrl: string;
  database: DatabaseTarget;
  /** Folder for embedded-mode state (PGlite files, the generated session secret). */
  dataDir: string;
  /** HMAC key for signed cookies; in embedded mode generated once and kept in `dataDir`. */
  sessionSecret: string | null;
  /**
   * `USER_TOKEN_SECRET`: the HMAC key platform user tokens are signed with; null derives
   * one from the session secret (HKDF). Changing it revokes every user token at once.
   */
  userTokenSecret: string | null;
  /**
   * The instance controller (docs/controller-openapi.yaml). `secret`: `CONTROLLER_SECRET`,
   * the HMAC key each instance's bearer token is derived from (required in production; in
   * embedded mode generated once and kept in `dataDir`, see Deps.security). `timeoutMs`:
   * each controller call is abandoned after this.
   */
  controller: { secret: string | null; timeoutMs: number };
  /**
   * CLI runs: a run with no terminal state after `maxDurationMs` is cancelled and failed;
   * the follow reads at most `maxOutputBytes` of a run's output (the rest is cut, saying so).
   */
  cliRuns: { maxDurationMs: number; maxOutputBytes: number };
  firstAdmin: { email: string; password: string | null } | null;
  adminApiToken: string | null;
  /** `PLATFORM_API_KEY`: registered as a platform key at start, like `adminApiToken`. */
  platformApiKey: string | null;
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  /**
   * Header a trusted proxy puts the client address in (`Fly-Client-IP` on Fly,
   * `X-Forwarded-For` elsewhere); null: use the connection's peer address.
   */
  trustProxyHeader: string | null;
  /**
   * QStash, for doorbells. `emulated`: the local emulator served by this process at
   * `<public url>/__dev/qstash` with QStash's published local-development credentials.
   */
  qstash: {
    baseUrl: string;
    token: string;
    currentSigningKey: string;
    nextSigningKey: string;
    emulated: boolean;
  };
  /**
   * Fly Machines. `simulated`: the simulator served by this process at
   * `<public url>/__dev/fly` (always in embedded mode, never in production).
   */
  fly: { apiUrl: string; token: string; appName: string; simulated: boolean };
  /** Multiplies the simulator's machine timings (a start takes 2 s at 1). Embedded mode only. */
  flySimulatorTimeScale: number;
  /**
   * Embedded mode only: a real instance controller (controller/) the simulator forwards
   * every started machine's controller calls to, with `token` as their bearer token; null:
   * the simulator simulates them.
   */
  flySimulatorController: { url: string; token: string } | null;
  /**
   * How claimed work is held (see src/lib/work). `stepBudgetMs`: a callback starts no
   * new step after this and rings its own continuation; `leaseMs`: how long a claim holds
   * a unit before the sweep may give it to another handler (a handler renews it, guarded
   * by its claim, when less than one request plus the budget is left before a Fly call, so
   * a live handler never loses it; longer than that, so a fresh claim needs no renewal);
   * `flyTimeoutMs`: each Fly call, retries included, ends within this (a `wait` gets its
   * own timeout on top).
   */
  work: { leaseMs: number; stepBudgetMs: number; flyTimeoutMs: number };
  /** Targets of scheduled actions being applied at once across the deployment. */
  scheduler: { maxInFlight: number };
  /**
   * How notices reach users. `email`: Resend (`RESEND_API_KEY` and `EMAIL_FROM`), the
   * outbox stand-in (embedded mode and tests), or none (production without a key: email
   * notices fail, saying so). `push`: Expo's push service, or the outbox. Rates are the
   * providers' request limits (Resend's default team limit is 2 requests/s; Expo takes
   * 600 notifications/s, i.e. 6 requests of 100); `concurrency`: requests in flight per
   * channel and dispatch.
   */
  notices: {
    email:
      | { kind: 'resend'; apiKey: string; from: string; baseUrl: string | null }
      | { kind: 'outbox' }
      | { kind: 'none' };
    push: { kind: 'expo'; accessToken: string | null; baseUrl: string | null } | { kind: 'outbox' };
    emailRequestsPerSecond: number;
    pushRequestsPerSecond: number;
    concurrency: number;
  };
  /** Unexpected-stop recovery (docs/recovery.md), per deployment. */
  recovery: RecoverySettings;
};

/**
 * `enabled`: reconcile starts recoveries (it still records divergences when off).
 * `inPlaceAttempts`: in-place starts allowed per instance within an hour before a stop is
 * answered by relocation (0: always relocate). `relocation`: move onto a replacement
 * volume and machine when in place is not possible. `retainDays`: how long an old volume
 * with snapshots is kept. `fallbackRegions`: tried in order after the old region on
 * capacity errors. `unreachableMs`: how long a host may be unreachable under a started
 * machine before it counts as down. `stepRetries`: tries per step before it fails.
 * `waitMaxMs`: the longest pause between two looks of a recovery waiting for its host or
 * for capacity. `retryMaxMs`: the longest pause before reconcile resumes a failed recovery.
 */
export type RecoverySettings = {
  enabled: boolean;
  inPlaceAttempts: number;
  relocation: boolean;
  retainDays: number;
  fallbackRegions: string[];
  unreachableMs: number;
  stepRetries: number;
  waitMaxMs: number;
  retryMaxMs: number;
};

export type ConfigResult = { ok: true; config: Config } | { ok: false; message: string };

/**
 * True when this process serves a local stand-in (the Fly simulator or the QStash
 * emulator, src/dev-servers): embedded mode, and tests. Decides whether start-up builds
 * them and applies their migration stream (db/dev-migrations); never true in production.
 */
export function servesStandIns(config: Pick<Config, 'fly' | 'qstash'>): boolean {
  return config.fly.simulated || config.qstash.emulated;
}

const DEFAULT_ADMIN_EMAIL = 'admin@fleetwarden.local';
/** The bearer token the local Fly simulator expects (not a secret: it only guards local state). */
const SIMULATOR_TOKEN = 'fleetwarden-local-simulator';

function databaseTarget(url: string | undefined, dataDir: string): DatabaseTarget {
  if (!url) return { kind: 'pglite', dataDir: `${dataDir.replace(/\/$/, '')}/pglite` };
  if (url === 'memory://') return { kind: 'pglite', dataDir: null };
  if (url.startsWith('pglite://'))
    return { kind: 'pglite', dataDir: url.slice('pglite://'.length) };
  // Neon's serverless driver speaks WebSocket; a neon.tech host (or `neon://`) picks it.
  if (url.startsWith('neon://'))
    return { kind: 'neon', url: `postgres://${url.slice('neon://'.length)}` };
  if (/^postgres(ql)?:\/\//.test(url)) {
    const host = new URL(url).hostname;
    return host.endsWith('.neon.tech') ? { kind: 'neon', url } : { kind: 'postgres', url };
  }
  return { kind: 'pglite', dataDir: url };
}

/**
 * Parses the process environment into a {@link Config}.
 *
 * Never throws: an invalid environment yields `{ ok: false, message }` where the message
 * names every bad or missing variable on its own line, ready to print before exiting.
 * Mode: `FLEETWARDEN_MODE`, else `production` when `NODE_ENV=production`, else `embedded`.
 * Production requires `DATABASE_URL` (PostgreSQL), `SESSION_SECRET`, `CONTROLLER_SECRET`, `PUBLIC_URL` and the
 * Fly and QStash credentials; embedded mode refuses those credentials.
 */
export function parseConfig(env: Record<string, string | undefined>): ConfigResult {
  // An empty variable means "unset" (as in `FOO= npm start`), not an empty value.
  const present = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = Env.safeParse(present);
  const problems: string[] = [];
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = issue.path.join('.');
      const got = typeof present[name] === 'string' && !/SECRET|PASSWORD|TOKEN|KEY/.test(name);
      problems.push(`${name}: ${issue.message}${got ? ` (got "${present[name]}")` : ''}`);
    }
    return { ok: false, message: formatProblems(problems) };
  }
  const e = parsed.data;
  const mode: Mode =
    e.FLEETWARDEN_MODE ?? (e.NODE_ENV === 'production' ? 'production' : 'embedded');
  const database = databaseTarget(e.DATABASE_URL, e.DATA_DIR);
  if (mode === 'production') {
    if (!e.DATABASE_URL) problems.push('DATABASE_URL: required in production (a PostgreSQL URL)');
    else if (database.kind === 'pglite')
      problems.push('DATABASE_URL: production needs PostgreSQL (postgres:// or a Neon URL)');
    if (!e.SESSION_SECRET)
      problems.push('SESSION_SECRET: required in production (32+ random characters)');
    if (!e.CONTROLLER_SECRET)
      problems.push(
        'CONTROLLER_SECRET: required in production (32+ random characters; instance controller tokens are derived from it)',
      );
    if (!e.PUBLIC_URL)
      problems.push('PUBLIC_URL: required in production (e.g. https://fleet.example.com)');
  }
  if (mode === 'production') {
    if (!e.QSTASH_TOKEN)
      problems.push('QSTASH_TOKEN: required in production (Upstash console → QStash)');
    if (!e.QSTASH_CURRENT_SIGNING_KEY)
      problems.push('QSTASH_CURRENT_SIGNING_KEY: required with QSTASH_TOKEN');
    if (!e.QSTASH_NEXT_SIGNING_KEY)
      problems.push('QSTASH_NEXT_SIGNING_KEY: required with QSTASH_TOKEN');
  }
  if (mode === 'embedded') problems.push(...embeddedRefusals(e));
  if (mode === 'production' && !e.FLY_API_TOKEN)
    problems.push('FLY_API_TOKEN: required in production (fly tokens create deploy -a <app>)');
  if (e.RESEND_API_KEY && !e.EMAIL_FROM)
    problems.push('EMAIL_FROM: required with RESEND_API_KEY (e.g. "Fleet <fleet@example.com>")');
  if (e.ADMIN_PASSWORD && !e.ADMIN_EMAIL && mode === 'production')
    problems.push('ADMIN_EMAIL: required when ADMIN_PASSWORD is set');
  if (e.CLAIM_LEASE_SECONDS <= e.STEP_BUDGET_SECONDS + e.FLY_REQUEST_TIMEOUT_SECONDS)
    problems.push(
      `CLAIM_LEASE_SECONDS: must be longer than STEP_BUDGET_SECONDS + FLY_REQUEST_TIMEOUT_SECONDS (${e.STEP_BUDGET_SECONDS} + ${e.FLY_REQUEST_TIMEOUT_SECONDS} s), or a live handler could lose its claim (got "${e.CLAIM_LEASE_SECONDS}")`,
    );
  if (problems.length > 0) return { ok: false, message: formatProblems(problems) };

  const publicUrl = (e.PUBLIC_URL ?? `http://localhost:${e.PORT}`).replace(/\/+$/, '');
  const wantsAdmin = mode === 'embedded' || e.ADMIN_EMAIL !== undefined;
  const qstash =
    e.QSTASH_TOKEN && e.QSTASH_CURRENT_SIGNING_KEY && e.QSTASH_NEXT_SIGNING_KEY
      ? {
          baseUrl: (e.QSTASH_URL ?? 'https://qstash.upstash.io').replace(/\/+$/, ''),
          token: e.QSTASH_TOKEN,
          currentSigningKey: e.QSTASH_CURRENT_SIGNING_KEY,
          nextSigningKey: e.QSTASH_NEXT_SIGNING_KEY,
          emulated: false,
        }
      : { baseUrl: `${publicUrl}/__dev/qstash`, ...LOCAL_QSTASH, emulated: true };
  return {
    ok: true,
    config: {
      mode,
      port: e.PORT,
      host: e.HOST ?? (mode === 'embedded' ? '127.0.0.1' : null),
      publicUrl,
      database,
      dataDir: e.DATA_DIR,
      sessionSecret: e.SESSION_SECRET ?? null,
      userTokenSecret: e.USER_TOKEN_SECRET ?? null,
      controller: {
        secret: e.CONTROLLER_SECRET ?? null,
        timeoutMs: e.CONTROLLER_REQUEST_TIMEOUT_SECONDS * 1000,
      },
      cliRuns: {
        maxDurationMs: e.CLI_RUN_MAX_MINUTES * 60_000,
        maxOutputBytes: e.CLI_RUN_MAX_OUTPUT_MB * 1_048_576,
      },
      firstAdmin: wantsAdmin
        ? {
            email: (e.ADMIN_EMAIL ?? DEFAULT_ADMIN_EMAIL).toLowerCase(),
            password: e.ADMIN_PASSWORD ?? null,
          }
        : null,
      adminApiToken: e.ADMIN_API_TOKEN ?? null,
      platformApiKey: e.PLATFORM_API_KEY ?? null,
      logLevel: e.LOG_LEVEL,
      trustProxyHeader: e.TRUST_PROXY_HEADER?.toLowerCase() ?? null,
      qstash,
      flySimulatorTimeScale: e.FLY_SIMULATOR_TIME_SCALE,
      flySimulatorController: e.FLY_SIMULATOR_CONTROLLER_URL
        ? { url: e.FLY_SIMULATOR_CONTROLLER_URL, token: e.FLY_SIMULATOR_CONTROLLER_TOKEN }
        : null,
      work: {
        leaseMs: e.CLAIM_LEASE_SECONDS * 1000,
        stepBudgetMs: e.STEP_BUDGET_SECONDS * 1000,
        flyTimeoutMs: e.FLY_REQUEST_TIMEOUT_SECONDS * 1000,
      },
      scheduler: { maxInFlight: e.SCHEDULER_MAX_IN_FLIGHT },
      notices: {
        email:
          e.RESEND_API_KEY && e.EMAIL_FROM
            ? {
                kind: 'resend',
                apiKey: e.RESEND_API_KEY,
                from: e.EMAIL_FROM,
                baseUrl: e.RESEND_API_URL ?? null,
              }
            : mode === 'embedded'
              ? { kind: 'outbox' }
              : { kind: 'none' },
        push:
          mode === 'embedded' && !e.EXPO_PUSH_URL
            ? { kind: 'outbox' }
            : {
                kind: 'expo',
                accessToken: e.EXPO_ACCESS_TOKEN ?? null,
                baseUrl: e.EXPO_PUSH_URL ?? null,
              },
        emailRequestsPerSecond: e.EMAIL_REQUESTS_PER_SECOND,
        pushRequestsPerSecond: e.PUSH_REQUESTS_PER_SECOND,
        concurrency: e.NOTICES_CONCURRENCY,
      },
      recovery: {
        enabled: e.RECOVERY_ENABLED === 'true',
        inPlaceAttempts: e.RECOVERY_IN_PLACE_ATTEMPTS,
        relocation: e.RECOVERY_RELOCATION_ENABLED === 'true',
        retainDays: e.RECOVERY_RETAIN_DAYS,
        fallbackRegions: e.RECOVERY_FALLBACK_REGIONS?.split(',') ?? [],
        unreachableMs: e.RECOVERY_UNREACHABLE_SECONDS * 1000,
        stepRetries: e.RECOVERY_STEP_RETRIES,
        waitMaxMs: e.RECOVERY_WAIT_MAX_SECONDS * 1000,
        retryMaxMs: e.RECOVERY_RETRY_MAX_SECONDS * 1000,
      },
      fly: e.FLY_API_TOKEN
        ? {
            apiUrl: (e.FLY_API_URL ?? 'https://api.machines.dev').replace(/\/+$/, ''),
            token: e.FLY_API_TOKEN,
            appName: e.FLY_APP_NAME,
            simulated: false,
          }
        : {
            apiUrl: `${publicUrl}/__dev/fly`,
            token: SIMULATOR_TOKEN,
            appName: e.FLY_APP_NAME,
            simulated: true,
          },
    },
  };
}

/**
 * Embedded mode serves a Fly simulator and a QStash emulator whose credentials are public
 * constants; a real Fly or QStash credential next to them would mix public keys with a
 * real account, so embedded mode refuses them rather than guessing which one was meant.
 */
function embeddedRefusals(e: z.infer<typeof Env>): string[] {
  const hint = 'set FLEETWARDEN_MODE=production to use the real service';
  const refused: string[] = [];
  if (e.FLY_API_TOKEN)
    refused.push(
      `FLY_API_TOKEN: not allowed in embedded mode, which runs the local Fly simulator; ${hint}`,
    );
  for (const name of [
    'QSTASH_TOKEN',
    'QSTASH_CURRENT_SIGNING_KEY',
    'QSTASH_NEXT_SIGNING_KEY',
  ] as const) {
    if (e[name])
      refused.push(
        `${name}: not allowed in embedded mode, which runs the local QStash emulator; ${hint}`,
      );
  }
  return refused;
}

function formatProblems(problems: string[]): string {
  return [
    'fleetwarden cannot start: the configuration is invalid.',
    ...problems.map((p) => `  - ${p}`),
    'See the Configuration table in README.md.',
  ].join('\n');
}
