import type { Config } from '../../config.ts';
import type { DoorbellConsole, Doorbells } from './doorbells.ts';
import {
  createQStashDoorbells,
  createSignatureVerifier,
  type SignatureVerifier,
} from './qstash.ts';

export type Queue = {
  doorbells: Doorbells;
  doorbellConsole: DoorbellConsole;
  signatures: SignatureVerifier;
};

/**
 * Doorbells and the callback signature verifier from the configuration. The app always
 * talks to QStash through the official SDK over HTTP, at `config.qstash.baseUrl`: QStash
 * itself, or in embedded mode the local emulator the app serves (src/dev-servers, which
 * this knows nothing of).
 */
export function setupQueue(input: {
  config: Config;
  /** The app's clock: a doorbell due now or earlier is sent without a delay. */
  now?: () => Date;
}): Queue {
  const { config } = input;
  const { doorbells, console } = createQStashDoorbells({
    ...config.qstash,
    publicUrl: config.publicUrl,
    ...(input.now ? { now: input.now } : {}),
  });
  return {
    doorbells,
    doorbellConsole: console,
    signatures: createSignatureVerifier(config.qstash),
  };
}
