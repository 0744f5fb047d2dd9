import type { Db } from '../../../db/client.ts';
import type { Config } from '../../config.ts';
import type { Logger } from '../../lib/log.ts';
import type { DoorbellConsole, Doorbells } from './doorbells.ts';
import { createQStashEmulator, type QStashEmulator } from './emulator/index.ts';
import {
  createQStashDoorbells,
  createSignatureVerifier,
  type SignatureVerifier,
} from './qstash.ts';

export type Queue = {
  doorbells: Doorbells;
  doorbellConsole: DoorbellConsole;
  signatures: SignatureVerifier;
  /** Set when the configuration asks for the local emulator. */
  emulator: QStashEmulator | null;
  /** Routes deliveries for our own origin straight into the app (no socket), once it exists. */
  attachApp(fetch: (request: Request) => Promise<Response>): void;
};

/**
 * Doorbells, the callback signature verifier and, in embedded mode and tests, the QStash
 * emulator, from the configuration. The app always talks to QStash through the official
 * SDK over HTTP; only the emulator's deliveries to our own origin skip the network.
 */
export function setupQueue(input: {
  config: Config;
  db: Db;
  log: Logger;
  now?: () => Date;
  timeScale?: number;
  /** The emulator's deliveries in flight at once (tests). */
  deliveryConcurrency?: number;
  /**
   * Origins the emulator may deliver to besides the app's own (`PUBLIC_URL`). Only tests
   * pass this, for a recording destination; embedded mode delivers to itself alone.
   */
  extraDestinations?: string[];
}): Queue {
  const { config } = input;
  const { doorbells, console } = createQStashDoorbells({
    ...config.qstash,
    publicUrl: config.publicUrl,
    ...(input.now ? { now: input.now } : {}),
  });
  let appFetch: ((request: Request) => Promise<Response>) | null = null;
  const origin = new URL(config.publicUrl).origin;
  const origins = [origin, ...(input.extraDestinations ?? []).map((o) => new URL(o).origin)];
  const emulator = config.qstash.emulated
    ? createQStashEmulator({
        db: input.db,
        log: input.log,
        ...(input.now ? { now: input.now } : {}),
        ...(input.timeScale !== undefined ? { timeScale: input.timeScale } : {}),
        ...(input.deliveryConcurrency ? { deliveryConcurrency: input.deliveryConcurrency } : {}),
        token: config.qstash.token,
        signingKeys: {
          current: config.qstash.currentSigningKey,
          next: config.qstash.nextSigningKey,
        },
        origins,
        fetch: (request) => {
          const to = new URL(request.url).origin;
          if (appFetch && to === origin) return appFetch(request);
          // Publishing already refuses other origins; this also holds for messages stored
          // before the rule existed: they fail (and retry into the DLQ) without a request.
          if (!origins.includes(to))
            return Promise.resolve(
              new Response(`refused: the local emulator delivers only to ${origins.join(', ')}`, {
                status: 400,
              }),
            );
          return fetch(request);
        },
      })
    : null;
  return {
    doorbells,
    doorbellConsole: console,
    signatures: createSignatureVerifier(config.qstash),
    emulator,
    attachApp(fetch) {
      appFetch = fetch;
    },
  };
}
