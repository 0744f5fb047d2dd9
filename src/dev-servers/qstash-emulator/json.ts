import type { ScheduleRow } from './schedules.ts';
import type { DlqRow, MessageRow } from './store.ts';

/** Wire shapes, as the QStash API and the official SDK name them (openapi `Message`, `Schedule`, `DLQMessage`). */

const headerOut = (h: Record<string, string>) =>
  Object.fromEntries(Object.entries(h).map(([k, v]) => [k, [v]]));

function bodyFields(bodyBase64: string): { body?: string; bodyBase64?: string } {
  if (!bodyBase64) return {};
  const bytes = Uint8Array.from(atob(bodyBase64), (c) => c.charCodeAt(0));
  try {
    return { body: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    return { bodyBase64 };
  }
}

export function messageJson(m: MessageRow) {
  return {
    messageId: m.messageId,
    url: m.destination,
    method: m.method,
    header: headerOut(m.headers),
    ...bodyFields(m.bodyBase64),
    maxRetries: m.maxRetries,
    ...(m.retryDelayExpression ? { retryDelayExpression: m.retryDelayExpression } : {}),
    notBefore: m.notBefore.getTime(),
    createdAt: m.createdAt.getTime(),
    ...(m.callback ? { callback: m.callback } : {}),
    ...(m.failureCallback ? { failureCallback: m.failureCallback } : {}),
    ...(m.scheduleId ? { scheduleId: m.scheduleId } : {}),
    ...(m.callerIp ? { callerIP: m.callerIp } : {}),
  };
}

export function dlqJson(d: DlqRow) {
  const m = d.message as unknown as Omit<MessageRow, 'notBefore' | 'createdAt'> & {
    notBefore: number;
    createdAt: number;
  };
  return {
    ...messageJson({
      ...m,
      notBefore: new Date(m.notBefore),
      createdAt: new Date(m.createdAt),
    } as MessageRow),
    dlqId: d.dlqId,
    ...(d.responseStatus !== null ? { responseStatus: d.responseStatus } : {}),
    ...(d.responseHeaders ? { responseHeader: d.responseHeaders } : {}),
    ...(d.responseBody ? { responseBody: d.responseBody } : {}),
  };
}

export function scheduleJson(s: ScheduleRow) {
  return {
    scheduleId: s.scheduleId,
    cron: s.cron,
    destination: s.destination,
    method: s.method,
    header: headerOut(s.headers),
    ...bodyFields(s.bodyBase64),
    retries: s.retries,
    delay: s.delaySeconds,
    ...(s.retryDelayExpression ? { retryDelayExpression: s.retryDelayExpression } : {}),
    ...(s.callback ? { callback: s.callback } : {}),
    ...(s.failureCallback ? { failureCallback: s.failureCallback } : {}),
    createdAt: s.createdAt.getTime(),
    isPaused: s.paused,
    ...(s.lastScheduleTime ? { lastScheduleTime: s.lastScheduleTime.getTime() } : {}),
    nextScheduleTime: s.nextScheduleTime.getTime(),
  };
}
