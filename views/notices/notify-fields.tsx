import { DEFAULT_NOTICE_SETTINGS, MAX_LEAD_MINUTES } from '../../src/notices/model.ts';
import type { NoticePreview } from '../../src/notices/preview.ts';
import { formatDateTime, zoneLabel } from '../format.ts';

/** The notify controls as the browser sends them (text, so they can be shown again). */
export type NotifyValues = {
  /** Marks a form that has these controls: unticked channels then mean "not this one". */
  noticeFields?: '1' | undefined;
  notify?: 'on' | 'off' | undefined;
  leadMinutes?: string | undefined;
  noticeSubject?: string | undefined;
  noticeBody?: string | undefined;
  notifyEmail?: 'true' | undefined;
  notifyPush?: 'true' | undefined;
  notifyWebapp?: 'true' | undefined;
};

const CHANNELS = [
  ['notifyEmail', 'Email'],
  ['notifyPush', 'Mobile push'],
  ['notifyWebapp', 'In-app banner'],
] as const;

/**
 * "Tell the users" on every form that schedules: on by default, lead time in minutes,
 * optional subject and message, channels. A form shown for the first time has every
 * channel ticked.
 */
export function NotifyFields({ v }: { v: NotifyValues }) {
  const fresh = v.noticeFields !== '1';
  return (
    <fieldset class="notify-fields">
      <legend>Tell the users</legend>
      <input type="hidden" name="noticeFields" value="1" />
      <label class="check">
        <input type="radio" name="notify" value="on" checked={v.notify !== 'off'} /> Notify each
        affected user ahead of time
      </label>
      <label class="check">
        <input type="radio" name="notify" value="off" checked={v.notify === 'off'} /> Do not notify
      </label>
      <label>
        Lead time (minutes before each instance's stage; 0–{MAX_LEAD_MINUTES.toLocaleString('en')})
        <input
          type="number"
          name="leadMinutes"
          min={0}
          max={MAX_LEAD_MINUTES}
          value={v.leadMinutes ?? String(DEFAULT_NOTICE_SETTINGS.leadMinutes)}
        />
      </label>
      <label>
        Subject (optional, up to 120 characters)
        <input type="text" name="noticeSubject" maxlength={120} value={v.noticeSubject ?? ''} />
      </label>
      <label>
        Message (optional plain text, up to 2,000 characters)
        <textarea name="noticeBody" maxlength={2000} rows={3}>
          {v.noticeBody ?? ''}
        </textarea>
      </label>
      <div class="toolbar">
        {CHANNELS.map(([name, label]) => (
          <label class="check">
            <input type="checkbox" name={name} value="true" checked={fresh || v[name] === 'true'} />{' '}
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}

/** The rendered message one user would get, in their zone (part of the live preview). */
export function NoticePreviewPanel(p: {
  preview: NoticePreview | null;
  firstDueAt: Date | null;
  zone: string;
}) {
  if (!p.preview || !p.firstDueAt)
    return (
      <p class="muted small" data-notice-preview="off">
        Users are not notified.
      </p>
    );
  return (
    <div class="notice-preview" data-notice-preview="on">
      <h3>Notice</h3>
      <p class="small">
        The first notices go out at{' '}
        <time datetime={p.firstDueAt.toISOString()}>{formatDateTime(p.firstDueAt, p.zone)}</time> (
        {zoneLabel(p.zone, p.firstDueAt)}). The email
        {p.preview.recipient ? ` to ${p.preview.recipient}` : ''}, in their zone (
        {zoneLabel(p.preview.timeZone, p.firstDueAt)}):
      </p>
      <p>
        <strong data-notice-subject>{p.preview.message.subject}</strong>
      </p>
      <pre class="notice-text">{p.preview.message.text}</pre>
    </div>
  );
}
