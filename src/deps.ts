import type { Db } from '../db/client.ts';
import type { ControllerClient } from './adapters/controller/client.ts';
import type { Mailer } from './adapters/email/mailer.ts';
import type { FlyClient } from './adapters/fly/api.ts';
import type { Gateway } from './adapters/fly/gateway.ts';
import type { Pusher } from './adapters/push/pusher.ts';
import type { DoorbellConsole, Doorbells } from './adapters/queue/doorbells.ts';
import type { SignatureVerifier } from './adapters/queue/qstash.ts';
import type { StaticAsset } from './assets.ts';
import type { Config } from './config.ts';
import type { DeprovisionListener } from './deprovision/listeners.ts';
import type { MachineLostListener } from './fleet/machine-lost.ts';
import type { OperationListener } from './fleet/operations/store.ts';
import type { Clock } from './lib/clock.ts';
import type { Logger } from './lib/log.ts';
import type { Sweeper } from './lib/work/index.ts';

/**
 * Everything a feature may use, built once by the runtime entry (or a test) and passed
 * to `createApp`. External clients live here behind small interfaces so tests hand in
 * fakes instead of mocking modules.
 */
export type Deps = {
  config: Config;
  db: Db;
  clock: Clock;
  log: Logger;
  /** The console's browser files read by the entry: ours (views/assets/) and htmx, Swagger UI. */
  staticAssets: StaticAsset[];
  /** The Fly Machines API (or the simulator in embedded mode). */
  fly: FlyClient;
  /** Health probes through each machine's gateway. */
  gateway: Gateway;
  /** Each instance's controller (CLI runs, agent sessions) through Fly's proxy. */
  controller: ControllerClient;
  /** Delayed signed callbacks (QStash, or the emulator in embedded mode). */
  doorbells: Doorbells;
  /** Reads QStash's event log, DLQ and schedules for the Deliveries page. */
  doorbellConsole: DoorbellConsole;
  /** Email for notices (Resend, or the outbox in embedded mode and tests). */
  mailer: Mailer;
  /** Mobile push for notices (Expo, or the outbox in embedded mode and tests). */
  pusher: Pusher;
  /** Verifies `Upstash-Signature` on callbacks. */
  signatures: SignatureVerifier;
  /** Called in the transaction that finishes an instance operation (the scheduler records its targets). */
  operationListeners: OperationListener[];
  /**
   * Told when reconcile gives an instance's machine up (src/fleet/machine-lost.ts): CLI runs
   * and sessions end their work on it before the recovery begins.
   */
  machineLostListeners: MachineLostListener[];
  /**
   * Told at each phase of an instance's deprovision (src/deprovision/listeners.ts): the
   * scheduler cancels its pending targets, a CLI run is cancelled, agents are disabled and
   * their sessions end with the machine.
   */
  deprovisionListeners: DeprovisionListener[];
  /** Every feature's part of the every-minute sweep. */
  sweepers: Sweeper[];
  /**
   * Local stand-ins served by this process in embedded mode and tests (built by
   * src/dev-servers, which only the embedded entries and tests load); null in production.
   */
  dev: { qstash: QueueDevServer | null; fly: DevServer | null; outbox: OutboxReader | null };
  /** The TCP peer's address from the runtime's per-request `env` (c.env), or null. */
  peerAddress(env: unknown): string | null;
  security: {
    /** PBKDF2-SHA-256 iterations for new password hashes (OWASP 2023: 600,000). */
    pbkdf2Iterations: number;
    /** HMAC key for signed cookies: `SESSION_SECRET`, or the one embedded mode generated. */
    sessionSecret: string;
    /**
     * HMAC key of the instance controllers' tokens: `CONTROLLER_SECRET`, or the one embedded
     * mode generated. Never logged; machines get only the derived per-instance token.
     */
    controllerSecret: string;
  };
};

/**
 * The per-request `env` the app passes when it dispatches a request to itself (the Fly
 * client and the QStash emulator calling our own origin without a socket). Compared by
 * identity, so no HTTP client can claim it: the `/__dev` guard trusts it as this machine.
 */
export const IN_PROCESS_ENV: Readonly<{ inProcess: true }> = Object.freeze({ inProcess: true });

/** A local stand-in for an external API, served by this process under `/__dev/…`. */
export type DevServer = { fetch(request: Request): Response | Promise<Response> };

/** What the console and the admin API read from the email/push outbox stand-in. */
export type OutboxReader = {
  list(filter: {
    recipient?: string;
    channel?: 'email' | 'push';
    kind?: string;
    actionId?: string;
    before?: { createdAt: Date; id: string };
    limit?: number;
  }): Promise<OutboxEntry[]>;
  get(id: string): Promise<OutboxEntry | null>;
};

/** One recorded message of the outbox. */
export type OutboxEntry = {
  id: string;
  channel: 'email' | 'push';
  recipient: string;
  subject: string;
  text: string;
  html: string | null;
  tags: Record<string, string>;
  idempotencyKey: string | null;
  createdAt: Date;
};

/** The QStash stand-in: its HTTP API and the loop that delivers its messages. */
export type QueueDevServer = DevServer & {
  engine: {
    /** Starts the background delivery loop (embedded mode). */
    start(): void;
    stop(): Promise<void>;
    /** Delivers every message due now, until nothing is (tests). Returns deliveries made. */
    drain(): Promise<number>;
  };
};

/**
 * What the stand-ins are built from. They are optional wiring, not adapters: the embedded
 * entries (through the `devServers` hook of the Host given to `boot`) and the test helpers
 * build them with `createDevServers` (src/dev-servers/index.ts); production never does.
 */
export type DevServersInput = {
  config: Config;
  db: Db;
  log: Logger;
  fly?: {
    /** Multiplies the simulator's timings (default `config.flySimulatorTimeScale`). */
    timeScale?: number;
  };
  qstash?: {
    /** The emulator's clock for due times (default: system time). */
    now?: () => Date;
    /** Multiplies retry backoff (default 1: QStash's real timing). */
    timeScale?: number;
    /** Deliveries in flight at once (default: the emulator's own). */
    deliveryConcurrency?: number;
    /**
     * Origins the emulator may deliver to besides the app's own (`PUBLIC_URL`). Only tests
     * pass this, for a recording destination; embedded mode delivers to itself alone.
     */
    extraDestinations?: string[];
  };
};

/** The built stand-ins, and what the rest of the wiring needs from them. */
export type DevServers = {
  /** What {@link Deps.dev} holds: each is null when the configuration uses the real service. */
  dev: Deps['dev'];
  /** The outbox's mailer and pusher (embedded mode and tests), for the wiring to use. */
  outbox: { mailer: Mailer; pusher: Pusher } | null;
  /** `urlFor` of the simulator's edge for the Fly gateway; null when Fly is real. */
  flyGatewayUrlFor: ((target: { appName: string; machineId: string }) => string) | null;
  /** The simulator's stand-in for `https://<app>.fly.dev` (controllers); null when Fly is real. */
  controllerBaseUrlFor: ((appName: string) => string) | null;
  /**
   * Gives the stand-ins the app once it exists: the emulator delivers to our own origin
   * through it, without a socket. Pass `(r) => app.fetch(r, IN_PROCESS_ENV)`.
   */
  attachApp(fetch: (request: Request) => Promise<Response>): void;
};

/** Who is acting, recorded in the audit log. */
export type Actor =
  | { type: 'admin'; id: string; label: string }
  /** `userId`: the product user a platform request acts for (recorded in the payload). */
  | { type: 'api_key'; id: string; label: string; userId?: string }
  | { type: 'system'; id: null; label: string };

export const SYSTEM_ACTOR: Actor = { type: 'system', id: null, label: 'system' };

/** What a domain verb receives besides its input: the deps, who acts, and the request id. */
export type Ctx = Deps & { actor: Actor; requestId: string | null };
