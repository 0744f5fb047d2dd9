import type { Db } from '../../../db/client.ts';
import type { Config } from '../../config.ts';
import type { DevServer } from '../../deps.ts';
import type { FlyClient } from './api.ts';
import { createFlyClient } from './client.ts';
import { createHttpGateway, flyDevHealthUrl, type Gateway } from './gateway.ts';
import { createFlySimulator, simulatorGatewayUrlFor } from './simulator/index.ts';

/**
 * An in-process answer that honours the request's abort signal as a socket fetch does (the
 * client's timeout rejects it; the simulator's handler may still finish its work, as a
 * server does after its client has gone).
 */
function abortable(answer: Promise<Response>, signal: AbortSignal): Promise<Response> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    answer.then(
      (res) => {
        signal.removeEventListener('abort', onAbort);
        resolve(res);
      },
      (err) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

export type Fly = {
  client: FlyClient;
  gateway: Gateway;
  /** Set when the configuration asks for the local simulator. */
  simulator: DevServer | null;
  /** Routes calls to our own origin (the simulator) straight into the app, once it exists. */
  attachApp(fetch: (request: Request) => Promise<Response>): void;
};

/**
 * The Fly client and gateway from the configuration, and in embedded mode and tests the
 * simulator they talk to. The client always speaks the Machines API over HTTP semantics;
 * requests to our own origin skip the socket once the app is attached.
 */
export function setupFly(input: {
  config: Config;
  db: Db;
  now?: () => Date;
  /** Simulator time scale (1 = Fly-like timings). */
  timeScale?: number;
  /** Client-side rate limiting (on by default, as against the real API). */
  rateLimit?: boolean;
}): Fly {
  const { config } = input;
  let appFetch: ((request: Request) => Promise<Response>) | null = null;
  const origin = new URL(config.publicUrl).origin;
  const route = (req: Request) =>
    appFetch && new URL(req.url).origin === origin
      ? abortable(appFetch(req), req.signal)
      : fetch(req);
  const fetcher = ((input: RequestInfo | URL, init?: RequestInit) =>
    route(new Request(input, init))) as typeof fetch;
  const simulator = config.fly.simulated
    ? createFlySimulator({
        db: input.db,
        token: config.fly.token,
        ...(input.now ? { now: input.now } : {}),
        ...(input.timeScale !== undefined ? { timeScale: input.timeScale } : {}),
      })
    : null;
  return {
    client: createFlyClient({
      baseUrl: config.fly.apiUrl,
      token: config.fly.token,
      fetch: fetcher,
      rateLimit: input.rateLimit ?? true,
      timeoutMs: config.work.flyTimeoutMs,
    }),
    gateway: createHttpGateway({
      urlFor: config.fly.simulated ? simulatorGatewayUrlFor(config.fly.apiUrl) : flyDevHealthUrl,
      fetch: fetcher,
    }),
    simulator,
    attachApp(fetch) {
      appFetch = fetch;
    },
  };
}
