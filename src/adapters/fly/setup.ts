import type { Config } from '../../config.ts';
import type { FlyClient } from './api.ts';
import { createFlyClient } from './client.ts';
import { createHttpGateway, flyDevHealthUrl, type Gateway } from './gateway.ts';

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
  /**
   * The fetch the client and gateway use (in-process to our own origin once attached): the
   * instance controller's client goes through Fly's proxy the same way.
   */
  fetch: typeof fetch;
  /**
   * Routes calls to our own origin (in embedded mode the local simulator, served by the
   * app under `/__dev/fly`) straight into the app, once it exists.
   */
  attachApp(fetch: (request: Request) => Promise<Response>): void;
};

/**
 * The Fly client and gateway from the configuration. The client always speaks the
 * Machines API over HTTP semantics; requests to our own origin skip the socket once the
 * app is attached. This knows nothing of the local simulator: whoever serves one passes
 * the URL of its edge as `gatewayUrlFor`.
 */
export function setupFly(input: {
  config: Config;
  /** Client-side rate limiting (on by default, as against the real API). */
  rateLimit?: boolean;
  /** The health URL the gateway probes for a machine (default: `https://<app>.fly.dev/healthz`). */
  gatewayUrlFor?: (target: { appName: string; machineId: string }) => string;
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
  return {
    client: createFlyClient({
      baseUrl: config.fly.apiUrl,
      token: config.fly.token,
      fetch: fetcher,
      rateLimit: input.rateLimit ?? true,
      timeoutMs: config.work.flyTimeoutMs,
    }),
    gateway: createHttpGateway({
      urlFor: input.gatewayUrlFor ?? flyDevHealthUrl,
      fetch: fetcher,
    }),
    fetch: fetcher,
    attachApp(fetch) {
      appFetch = fetch;
    },
  };
}
