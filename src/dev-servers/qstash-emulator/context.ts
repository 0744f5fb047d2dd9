import type { Db } from '../../../db/client.ts';
import type { Logger } from '../../lib/log.ts';

/** What every part of the emulator shares. */
export type EmulatorContext = {
  db: Db;
  /** Scheduling clock (due times); JWTs always use the real clock. */
  now: () => Date;
  /** Multiplies retry backoff, so tests see QStash's retry order in milliseconds. */
  timeScale: number;
  signingKeys: { current: string; next: string };
  /** The only origins messages, callbacks and schedules may deliver to (see refuseDestination). */
  origins: readonly string[];
  /** Sends deliveries; defaults to global fetch. */
  fetch: (request: Request) => Promise<Response>;
  log: Logger;
  /** Wakes the delivery loop when something becomes due earlier than it planned. */
  notify: (dueAt: Date) => void;
};
