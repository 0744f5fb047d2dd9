// The local stand-ins for Fly and QStash, built from the configuration. Only the embedded
// entries (node.ts, main.ts, through the Host's `devServers` hook, by dynamic import) and
// the test helpers import this folder; src/boot.ts and the adapters never do, so a
// production start loads none of it (test/integration/production-graph.test.ts).
import { emailLimiter } from '../adapters/email/setup.ts';
import { pushLimiter } from '../adapters/push/setup.ts';
import type { DevServers, DevServersInput } from '../deps.ts';
import {
  createFlySimulator,
  simulatorControllerUrlFor,
  simulatorGatewayUrlFor,
} from './fly-simulator/index.ts';
import { createOutbox } from './outbox/index.ts';
import { createQStashEmulator } from './qstash-emulator/index.ts';

/**
 * The Fly simulator when `config.fly.simulated`, the QStash emulator when
 * `config.qstash.emulated` (both in embedded mode and tests, neither in production),
 * persisted in `input.db` (the `sim_*` tables of db/dev-schema, migrated by the dev
 * stream). Mount `dev` through `Deps.dev`, then call `attachApp` once the app exists.
 */
export function createDevServers(input: DevServersInput): DevServers {
  const { config } = input;
  let appFetch: ((request: Request) => Promise<Response>) | null = null;
  const origin = new URL(config.publicUrl).origin;
  const origins = [
    origin,
    ...(input.qstash?.extraDestinations ?? []).map((o) => new URL(o).origin),
  ];
  const q = input.qstash ?? {};
  const qstash = config.qstash.emulated
    ? createQStashEmulator({
        db: input.db,
        log: input.log,
        ...(q.now ? { now: q.now } : {}),
        ...(q.timeScale !== undefined ? { timeScale: q.timeScale } : {}),
        ...(q.deliveryConcurrency ? { deliveryConcurrency: q.deliveryConcurrency } : {}),
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
  const fly = config.fly.simulated
    ? createFlySimulator({
        db: input.db,
        token: config.fly.token,
        timeScale: input.fly?.timeScale ?? config.flySimulatorTimeScale,
        controller: config.flySimulatorController ?? undefined,
      })
    : null;
  const outbox =
    config.notices.email.kind === 'outbox' || config.notices.push.kind === 'outbox'
      ? createOutbox({
          db: input.db,
          now: input.qstash?.now ?? (() => new Date()),
          limiters: { email: emailLimiter(config), push: pushLimiter(config) },
        })
      : null;
  return {
    dev: { qstash, fly, outbox: outbox?.store ?? null },
    outbox: outbox ? { mailer: outbox.mailer, pusher: outbox.pusher } : null,
    flyGatewayUrlFor: fly ? simulatorGatewayUrlFor(config.fly.apiUrl) : null,
    controllerBaseUrlFor: fly ? simulatorControllerUrlFor(config.fly.apiUrl) : null,
    attachApp(fetch) {
      appFetch = fetch;
    },
  };
}
