import { Hono } from 'hono';
import { timingSafeEqual } from 'hono/utils/buffer';
import type { Db } from '../../../db/client.ts';
import { LOCAL_QSTASH } from '../../adapters/queue/local-credentials.ts';
import type { Logger } from '../../lib/log.ts';
import type { EmulatorContext } from './context.ts';
import { createDeliveryEngine, type DeliveryEngine } from './engine.ts';
import { qstashError } from './http.ts';
import { dlqRoutes } from './routes-dlq.ts';
import { messageRoutes } from './routes-messages.ts';
import { publishRoutes } from './routes-publish.ts';
import { scheduleRoutes } from './routes-schedules.ts';

export type QStashEmulatorOptions = {
  db: Db;
  log: Logger;
  now?: () => Date;
  /** Multiplies retry backoff (1 = QStash's real timing). */
  timeScale?: number;
  /** Defaults to QStash's published local-development token and signing keys. */
  token?: string;
  signingKeys?: { current: string; next: string };
  /** How deliveries are sent; defaults to global fetch. */
  fetch?: (request: Request) => Promise<Response>;
  /** Deliveries in flight at once (default `DEFAULT_DELIVERY_CONCURRENCY`, engine.ts). */
  deliveryConcurrency?: number;
  /**
   * Origins it delivers to (e.g. `http://localhost:8787`): the app's own. A publish,
   * callback or schedule for any other is a 400 naming the rule.
   */
  origins: readonly string[];
};

export type QStashEmulator = {
  /** Serves the QStash v2 REST API under `/v2`; mount it at `/__dev/qstash`. */
  fetch(request: Request): Response | Promise<Response>;
  engine: DeliveryEngine;
};

/**
 * A QStash-compatible server the official `@upstash/qstash` SDK talks to unchanged
 * (`new Client({ baseUrl, token })`), persisted in the app's database, delivering signed
 * requests with QStash's retry, backoff, DLQ, callbacks, deduplication and schedules.
 * Reference: upstash/docs `qstash/openapi.yaml` and `qstash/features/*`.
 */
export function createQStashEmulator(options: QStashEmulatorOptions): QStashEmulator {
  let engine: DeliveryEngine | null = null;
  const ctx: EmulatorContext = {
    db: options.db,
    log: options.log,
    now: options.now ?? (() => new Date()),
    timeScale: options.timeScale ?? 1,
    signingKeys: options.signingKeys ?? {
      current: LOCAL_QSTASH.currentSigningKey,
      next: LOCAL_QSTASH.nextSigningKey,
    },
    fetch: options.fetch ?? ((request) => fetch(request)),
    origins: options.origins.map((o) => new URL(o).origin),
    notify: (at) => engine?.wake(at),
  };
  engine = createDeliveryEngine(ctx, options.deliveryConcurrency);
  const token = options.token ?? LOCAL_QSTASH.token;

  const app = new Hono();
  app.use('/v2/*', async (c, next) => {
    const bearer =
      c.req.header('authorization')?.replace(/^Bearer\s+/i, '') ??
      c.req.query('qstash_token') ??
      '';
    if (!(await timingSafeEqual(bearer, token)))
      return qstashError(c, 401, 'Unauthorized: send the QStash token as a bearer token');
    await next();
  });
  app.get('/v2/keys', (c) =>
    c.json({ current: ctx.signingKeys.current, next: ctx.signingKeys.next }),
  );
  app.route('/', publishRoutes(ctx));
  app.route('/', messageRoutes(ctx));
  app.route('/', scheduleRoutes(ctx));
  app.route('/', dlqRoutes(ctx));
  return { fetch: (request) => app.fetch(request), engine };
}
