import type { Db } from '../../db/client.ts';
import { type RenderedNotice, renderNoticeMessage } from '../../views/notices/message.tsx';
import { findImage } from '../fleet/catalog.ts';
import { instanceNames } from '../fleet/instances.ts';
import { contactsOf } from '../fleet/users.ts';
import type { NoticeSettings } from './model.ts';

/** A sample of the message an action would send, as one of its users would see it. */
export type NoticePreview = {
  recipient: string | null;
  /** The recipient's zone the times are shown in (the admin's when there is no sample user). */
  timeZone: string;
  message: RenderedNotice;
};

/**
 * Renders the notice one eligible user would get (their zone, their instances' names), or
 * with placeholder names in `fallbackZone` when the selection has nobody yet. Null when
 * notify is off or no channel is chosen.
 */
export async function previewNotice(
  db: Db,
  input: {
    actionType: 'restart' | 'version_change';
    targetImageTag: string | null;
    settings: NoticeSettings;
    at: Date;
    sample: { userId: string; instanceIds: string[] } | null;
    fallbackZone: string;
  },
): Promise<NoticePreview | null> {
  if (!input.settings.notify || !input.settings.channels.length) return null;
  const contact = input.sample
    ? (await contactsOf(db, [input.sample.userId])).get(input.sample.userId)
    : undefined;
  const names = input.sample
    ? await instanceNames(db, input.sample.instanceIds)
    : new Map<string, string>();
  const image = input.targetImageTag ? await findImage(db, input.targetImageTag) : null;
  const timeZone = contact?.timeZone ?? input.fallbackZone;
  const message = await renderNoticeMessage({
    kind: 'notice',
    actionType: input.actionType,
    targetVersion: image?.versionLabel ?? input.targetImageTag,
    recipientName: contact?.displayName ?? null,
    timeZone,
    instances: (input.sample?.instanceIds ?? ['example']).map((id) => ({
      name: names.get(id) ?? 'your-instance',
      at: input.at,
    })),
    subject: input.settings.subject,
    body: input.settings.body,
  });
  return { recipient: contact?.email ?? null, timeZone, message };
}
