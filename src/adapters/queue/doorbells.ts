/**
 * Doorbells: delayed, signed callbacks that carry only ids. Features ring one for each
 * piece of time-based work; the database stays the source of truth, and the sweep rings
 * again whatever a lost doorbell left behind.
 */
export type Ring = {
  /** Callback path under the public URL, e.g. `/api/callbacks/instance-operations`. */
  path: string;
  /** Ids only: the handler re-reads everything else. */
  body: Record<string, unknown>;
  /** Deliver no earlier than this instant (rounded up to the second). Default: now. */
  notBefore?: Date;
  /** Derived from the work item, so ringing twice for the same thing sends one message. */
  deduplicationId?: string;
};

export type Doorbells = {
  /** Publishes one doorbell; resolves with the message id. Throws when publishing fails. */
  ring(item: Ring): Promise<string>;
  /** Publishes many in one request (QStash batch); message ids in order. */
  ringMany(items: Ring[]): Promise<string[]>;
  /** Cancels a doorbell not yet delivered; an unknown or delivered one is ignored. */
  cancel(messageId: string): Promise<void>;
  /** Creates or replaces a recurring doorbell (`CRON_TZ=<zone> ` prefix allowed). */
  upsertSchedule(schedule: {
    id: string;
    path: string;
    cron: string;
    body?: Record<string, unknown>;
  }): Promise<void>;
};

/** One recent delivery as QStash's event log tells it. */
export type DoorbellLog = {
  messageId: string;
  url: string;
  state: string;
  time: Date;
  nextDeliveryTime: Date | null;
  responseStatus: number | null;
  error: string | null;
};

export type DeadLetter = {
  dlqId: string;
  messageId: string;
  url: string;
  createdAt: Date;
  responseStatus: number | null;
  responseBody: string | null;
  body: string | null;
};

export type DoorbellSchedule = {
  scheduleId: string;
  cron: string;
  destination: string;
  isPaused: boolean;
  lastScheduleTime: Date | null;
  nextScheduleTime: Date | null;
};

/** What the Deliveries page reads and does, through the same QStash API in every mode. */
export type DoorbellConsole = {
  recentEvents(count: number): Promise<DoorbellLog[]>;
  deadLetters(): Promise<DeadLetter[]>;
  retryDeadLetter(dlqId: string): Promise<string>;
  deleteDeadLetter(dlqId: string): Promise<void>;
  schedules(): Promise<DoorbellSchedule[]>;
};
