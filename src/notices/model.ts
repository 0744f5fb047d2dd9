import type {
  noticeDeliveries,
  scheduledActionNoticeSettings,
  scheduledActionNotices,
} from '../../db/schema/index.ts';
import { NOTICE_CHANNELS, type NoticeChannel } from '../../db/schema/notices.ts';

export {
  NOTICE_CHANNELS,
  NOTICE_KINDS,
  NOTICE_STATUSES,
  type NoticeChannel,
  type NoticeKind,
  type NoticeStatus,
} from '../../db/schema/notices.ts';

export type Delivery = typeof noticeDeliveries.$inferSelect;
export type Notice = typeof scheduledActionNotices.$inferSelect;
export type NoticeSettingsRow = typeof scheduledActionNoticeSettings.$inferSelect;

/** How an action tells its users (the API's `notify`, `leadMinutes`, `subject`, `body`, `channels`). */
export type NoticeSettings = {
  notify: boolean;
  /** 0–10,080 minutes before each target's stage time. */
  leadMinutes: number;
  subject: string | null;
  body: string | null;
  channels: NoticeChannel[];
};

export const DEFAULT_NOTICE_SETTINGS: NoticeSettings = {
  notify: true,
  leadMinutes: 1440,
  subject: null,
  body: null,
  channels: [...NOTICE_CHANNELS],
};
export const MAX_LEAD_MINUTES = 10_080;
export const MAX_SUBJECT_LENGTH = 120;
export const MAX_BODY_LENGTH = 2_000;

/** The reason a notice cancelled with its action (or target) says. */
export const CANCELLED_BEFORE_SENT = 'cancelled before the notice was sent';
/** The reason a notice says when its instance was changed (or skipped) before it went out. */
export const OVERTAKEN = 'the action reached this instance before the notice was sent';

/** Doorbell path of the dispatch handler. */
export const NOTICES_PATH = '/api/callbacks/notices';

/**
 * The doorbell for notices due at `dueAt`: one per action per distinct due time, its
 * deduplication id made from both, so planning twice (or resuming twice) rings once.
 */
export function noticeDoorbell(actionId: string, dueAt: Date, now: Date) {
  return {
    path: NOTICES_PATH,
    body: { actionId, dueAt: dueAt.toISOString() },
    notBefore: dueAt > now ? dueAt : now,
    deduplicationId: `notices-${actionId}-due-${dueAt.getTime()}`,
  };
}
