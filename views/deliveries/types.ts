export type DoorbellRow = {
  messageId: string;
  path: string;
  dueAt: Date | null;
  deliveredAt: Date | null;
  attempts: number;
  state: string;
  lastStatus: number | null;
  lastError: string | null;
};

export type DeadLetterRow = {
  dlqId: string;
  messageId: string;
  url: string;
  createdAt: Date;
  responseStatus: number | null;
  responseBody: string | null;
  body: string | null;
};

export type ScheduleRow = {
  scheduleId: string;
  cron: string;
  destination: string;
  isPaused: boolean;
  lastScheduleTime: Date | null;
  nextScheduleTime: Date | null;
};

export type SweepRow = {
  id: string;
  startedAt: Date;
  finishedAt: Date | null;
  found: number;
  rerung: number;
  leasesReturned: number;
  details: Record<
    string,
    { found: number; rerung: number; leasesReturned: number; error?: string }
  >;
};
