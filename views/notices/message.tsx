import { formatDateTime, zoneLabel } from '../format.ts';

/** What one message says, before it is rendered into a channel's parts. */
export type NoticeMessageProps = {
  kind: 'notice' | 'cancelled';
  actionType: 'restart' | 'version_change';
  /** Image version label or tag the instances move to (version changes). */
  targetVersion: string | null;
  /** The user's name, or null. */
  recipientName: string | null;
  /** The user's IANA zone: every time is shown in it, with its name. */
  timeZone: string;
  /** The user's instances this message is about, with each one's stage time. */
  instances: { name: string; at: Date }[];
  /** The admin's subject and plain-text body, when given. */
  subject: string | null;
  body: string | null;
};

/** The rendered parts: the email's subject, text and HTML, and the push title and body. */
export type RenderedNotice = {
  subject: string;
  text: string;
  html: string;
  pushTitle: string;
  pushBody: string;
};

const what = (p: NoticeMessageProps) =>
  p.actionType === 'restart' ? 'restart' : `update to ${p.targetVersion ?? 'a new version'}`;

const yours = (n: number) => (n === 1 ? 'Your instance' : `Your ${n} instances`);

function defaultSubject(p: NoticeMessageProps): string {
  const first = p.instances[0];
  const when = first ? ` on ${formatDateTime(first.at, p.timeZone)}` : '';
  return `${yours(p.instances.length)} will ${what(p)}${when}`;
}

function subjectOf(p: NoticeMessageProps): string {
  const base = p.subject ?? defaultSubject(p);
  return p.kind === 'cancelled' ? `Cancelled: ${base}` : base;
}

function lead(p: NoticeMessageProps): string {
  const n = p.instances.length;
  return p.kind === 'cancelled'
    ? `The planned ${p.actionType === 'restart' ? 'restart' : 'version update'} of ${n === 1 ? 'your instance' : `your ${n} instances`} has been cancelled. Nothing will change.`
    : `${yours(n)} will ${what(p)} at the time${n === 1 ? '' : 's'} below.`;
}

function line(p: NoticeMessageProps, i: { name: string; at: Date }): string {
  return `${i.name}: ${p.kind === 'cancelled' ? 'was planned for ' : ''}${formatDateTime(i.at, p.timeZone)}`;
}

function Email(props: NoticeMessageProps & { zone: string }) {
  const p = props;
  return (
    <html lang="en">
      <body>
        <p>Hello{p.recipientName ? ` ${p.recipientName}` : ''},</p>
        <p>{lead(p)}</p>
        <ul>
          {p.instances.map((i) => (
            <li>
              <strong>{i.name}</strong>
              {p.kind === 'cancelled' ? ': was planned for ' : ': '}
              {formatDateTime(i.at, p.timeZone)}
            </li>
          ))}
        </ul>
        {p.body ? (
          <p>
            {p.body.split('\n').map((l, k) => (
              <>
                {k > 0 ? <br /> : null}
                {l}
              </>
            ))}
          </p>
        ) : null}
        <p>
          <small>Times are in {p.zone}.</small>
        </p>
      </body>
    </html>
  );
}

/**
 * Renders a notice for every channel, in the user's zone with the zone named. The HTML is
 * built with hono/jsx, which escapes every text (the admin's body included); the body's
 * newlines become line breaks.
 */
export async function renderNoticeMessage(p: NoticeMessageProps): Promise<RenderedNotice> {
  const first = p.instances[0];
  const zone = zoneLabel(p.timeZone, first?.at ?? new Date());
  const subject = subjectOf(p);
  const text = [
    `Hello${p.recipientName ? ` ${p.recipientName}` : ''},`,
    '',
    lead(p),
    '',
    ...p.instances.map((i) => `- ${line(p, i)}`),
    ...(p.body ? ['', p.body] : []),
    '',
    `Times are in ${zone}.`,
  ].join('\n');
  const html = `<!doctype html>${await (<Email {...p} zone={zone} />).toString()}`;
  const names = p.instances.map((i) => i.name).join(', ');
  const pushBody =
    p.kind === 'cancelled'
      ? `Cancelled for ${names}. Nothing will change.`
      : `${names}: ${first ? formatDateTime(first.at, p.timeZone) : ''}`;
  return { subject, text, html, pushTitle: subject, pushBody };
}
