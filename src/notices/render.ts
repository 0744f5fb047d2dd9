import { inArray } from 'drizzle-orm';
import type { Db } from '../../db/client.ts';
import { scheduledActionNoticeSettings } from '../../db/schema/index.ts';
import {
  type NoticeMessageProps,
  type RenderedNotice,
  renderNoticeMessage,
} from '../../views/notices/message.tsx';
import { findImage } from '../fleet/catalog.ts';
import { instanceNames } from '../fleet/instances.ts';
import { type Contact, contactsOf } from '../fleet/users.ts';
import { actionSummaries } from '../scheduler/for-notices.ts';
import type { ClaimedDelivery } from './claim.ts';

/** A claimed delivery with who it goes to and what it says, or why it cannot go. */
export type Prepared =
  | { delivery: ClaimedDelivery; ok: true; contact: Contact; message: RenderedNotice }
  | { delivery: ClaimedDelivery; ok: false; error: string };

/**
 * Looks up what the messages of these deliveries need (the action's type and settings,
 * the user's address and zone, the instance names) with one query each, and renders them.
 * A delivery whose user is gone (erased) or whose notices all dropped out cannot go.
 */
export async function prepareMessages(db: Db, deliveries: ClaimedDelivery[]): Promise<Prepared[]> {
  const actionIds = [...new Set(deliveries.map((d) => d.actionId))];
  const [actions, settings, contacts, names] = await Promise.all([
    actionSummaries(db, actionIds),
    db
      .select()
      .from(scheduledActionNoticeSettings)
      .where(inArray(scheduledActionNoticeSettings.actionId, actionIds)),
    contactsOf(db, [...new Set(deliveries.map((d) => d.userId))]),
    instanceNames(
      db,
      deliveries.flatMap((d) => d.notices.map((n) => n.instanceId)),
    ),
  ]);
  const tags = [
    ...new Set([...actions.values()].map((a) => a.targetImageTag).filter(Boolean)),
  ] as string[];
  const labels = new Map<string, string>();
  for (const tag of tags) {
    const image = await findImage(db, tag);
    if (image) labels.set(tag, image.versionLabel);
  }
  const settingsOf = new Map(settings.map((s) => [s.actionId, s]));
  return Promise.all(
    deliveries.map(async (delivery): Promise<Prepared> => {
      const contact = contacts.get(delivery.userId);
      const action = actions.get(delivery.actionId);
      if (!contact || contact.deletedAt)
        return { delivery, ok: false, error: 'the user no longer exists' };
      if (!action || !delivery.notices.length)
        return { delivery, ok: false, error: 'nothing left to announce' };
      const s = settingsOf.get(delivery.actionId);
      const props: NoticeMessageProps = {
        kind: delivery.kind,
        actionType: action.actionType,
        targetVersion: action.targetImageTag
          ? (labels.get(action.targetImageTag) ?? action.targetImageTag)
          : null,
        recipientName: contact.displayName,
        timeZone: contact.timeZone,
        instances: delivery.notices.map((n) => ({
          name: names.get(n.instanceId) ?? n.instanceId,
          at: new Date(n.actionAt),
        })),
        subject: s?.subject ?? null,
        body: s?.body ?? null,
      };
      return { delivery, ok: true, contact, message: await renderNoticeMessage(props) };
    }),
  );
}
