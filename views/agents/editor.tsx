import { MAX_CATCHUP_WINDOW_SECONDS } from '../../src/triggers/model.ts';
import { formatDateTime, zoneLabel } from '../format.ts';

/** The editor's fields as the form labels them, for messages that name a field. */
const FIELD_LABELS: Record<string, string> = {
  name: 'Name',
  prompt: 'Prompt',
  instance: 'Instance',
  instanceId: 'Instance',
  cronExpression: 'Cron expression',
  timeZone: 'Time zone',
  enabled: 'Enabled',
  overlapPolicy: 'When a session is still live',
  catchupPolicy: 'Fire times missed while down',
  catchupWindowSeconds: 'Catch up at most',
};

/**
 * A refused save in the form's words: each `extra.errors` entry (`{ path, message }`, as
 * `scheduleError` in src/triggers/agents.ts gives) as "Cron expression: 6 fields given…".
 * Without entries, the error's own message.
 */
export function saveErrorText(err: { message: string; extra: Record<string, unknown> }): string {
  const errors = err.extra.errors;
  if (!Array.isArray(errors) || errors.length === 0) return err.message;
  return errors
    .map((e: { path?: unknown; message?: unknown }) => {
      const label = FIELD_LABELS[String(e.path)] ?? String(e.path);
      const message = String(e.message ?? '');
      return `${label}: ${message}${/[.!?]$/.test(message) ? '' : '.'}`;
    })
    .join(' ');
}

export type PreviewView =
  | { ok: true; description: string | null; times: Date[]; zone: string }
  | { ok: false; field: string; message: string }
  | { ok: 'none' };

/**
 * The live part of the editor: the expression in words (cronstrue) and the next 5 fire
 * times in the agent's zone and in the viewer's, re-rendered by htmx as the fields change.
 * With `expression`, the expression field is swapped out of band too (a preset was picked).
 * Every preview request replaces the one in flight (`hx-sync`), so a slow answer for an
 * earlier value never overwrites a newer one.
 */
export function CronPreview({
  preview,
  viewerZone,
  expression,
}: {
  preview: PreviewView;
  viewerZone: string;
  expression?: string;
}) {
  return (
    <>
      {expression !== undefined ? <ExpressionInput value={expression} oob /> : null}
      {preview.ok === 'none' ? (
        <p class="muted">No schedule: the agent runs only when asked.</p>
      ) : preview.ok === false ? (
        <p class="error-text" role="alert" data-preview-error>
          {preview.field === 'timeZone' ? 'Time zone' : 'Cron expression'}: {preview.message}
        </p>
      ) : (
        <>
          <p data-description>
            <strong>{preview.description ?? 'Custom schedule'}</strong>
          </p>
          <table class="compact" data-next-fires>
            <thead>
              <tr>
                <th>In {zoneLabel(preview.zone)}</th>
                {viewerZone !== preview.zone ? (
                  <th>In your zone, {zoneLabel(viewerZone)}</th>
                ) : null}
              </tr>
            </thead>
            <tbody>
              {preview.times.map((t) => (
                <tr>
                  <td>
                    <time datetime={t.toISOString()}>{formatDateTime(t, preview.zone)}</time>
                  </td>
                  {viewerZone !== preview.zone ? <td>{formatDateTime(t, viewerZone)}</td> : null}
                </tr>
              ))}
            </tbody>
          </table>
        </>
      )}
    </>
  );
}

export function ExpressionInput({ value, oob }: { value: string; oob?: boolean }) {
  return (
    <input
      id="cron-expression"
      name="cronExpression"
      value={value}
      maxlength={120}
      placeholder="minute hour day-of-month month day-of-week"
      autocomplete="off"
      spellcheck={false}
      {...(oob ? { 'hx-swap-oob': 'true' } : {})}
    />
  );
}

export type EditorValues = {
  name: string;
  prompt: string;
  instance: string;
  cronExpression: string;
  timeZone: string;
  enabled: boolean;
  overlapPolicy: string;
  catchupPolicy: string;
  catchupWindowMinutes: number;
};

const OVERLAP: [string, string][] = [
  ['skip', 'Skip the fire while a session is live'],
  ['buffer_one', 'Start it when the live one ends (one waits at most)'],
  ['allow_all', 'Start it anyway'],
  ['cancel_other', 'Cancel the live session, then start'],
];
const CATCHUP: [string, string][] = [
  ['skip', 'Fire none of the missed times'],
  ['once', 'Fire once, for the most recent missed time'],
  ['all', 'Fire each missed time in order (at most 100)'],
];

/** The agent form: name, prompt, schedule with presets and live preview, zone picker, policies. */
export function AgentEditor({
  action,
  values,
  presets,
  zones,
  preview,
  viewerZone,
  instances,
  error,
}: {
  action: string;
  values: EditorValues;
  presets: readonly { label: string; expression: string }[];
  zones: string[];
  preview: PreviewView;
  viewerZone: string;
  /** For a new agent: the instances to pick from. */
  instances?: { id: string; name: string }[];
  error?: string | null;
}) {
  return (
    <form method="post" action={action} id="agent-form" class="panel stack">
      {error ? (
        <div class="flash flash-error" role="alert">
          {error}
        </div>
      ) : null}
      {instances ? (
        <label>
          Instance
          <select name="instance" required>
            {instances.map((i) => (
              <option value={i.id} selected={values.instance === i.id}>
                {i.name}
              </option>
            ))}
          </select>
        </label>
      ) : null}
      <label>
        Name
        <input name="name" value={values.name} required maxlength={200} />
      </label>
      <label>
        Prompt
        <textarea name="prompt" required maxlength={10000} rows={4}>
          {values.prompt}
        </textarea>
      </label>
      <fieldset>
        <legend>Schedule</legend>
        <fieldset class="presets">
          <legend>Presets</legend>
          {presets.map((p) => (
            <button
              type="button"
              class="secondary small"
              hx-post="/admin/agents/preview"
              hx-include="#agent-form"
              hx-vals={JSON.stringify({ preset: p.expression })}
              hx-target="#cron-preview"
              hx-sync="#agent-form:replace"
            >
              {p.label}
            </button>
          ))}
        </fieldset>
        <label for="cron-expression">
          Cron expression <span class="muted small">(5 fields; empty: no schedule)</span>
        </label>
        <span
          hx-post="/admin/agents/preview"
          hx-trigger="keyup changed delay:300ms from:#cron-expression, change from:#time-zone, keyup changed delay:300ms from:#time-zone"
          hx-include="#agent-form"
          hx-target="#cron-preview"
          hx-sync="#agent-form:replace"
        />
        <ExpressionInput value={values.cronExpression} />
        <label>
          Time zone
          <input
            id="time-zone"
            name="timeZone"
            list="iana-zones"
            value={values.timeZone}
            required
            autocomplete="off"
          />
          <datalist id="iana-zones">
            {zones.map((z) => (
              <option value={z} />
            ))}
          </datalist>
        </label>
        <div id="cron-preview" aria-live="polite">
          <CronPreview preview={preview} viewerZone={viewerZone} />
        </div>
      </fieldset>
      <label class="check">
        <input type="checkbox" name="enabled" value="on" checked={values.enabled} /> Enabled
      </label>
      <label>
        When a session is still live at a fire time
        <select name="overlapPolicy">
          {OVERLAP.map(([v, label]) => (
            <option value={v} selected={values.overlapPolicy === v}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Fire times missed while down
        <select name="catchupPolicy">
          {CATCHUP.map(([v, label]) => (
            <option value={v} selected={values.catchupPolicy === v}>
              {label}
            </option>
          ))}
        </select>
      </label>
      <label>
        Catch up at most (minutes back)
        <input
          type="number"
          name="catchupWindowMinutes"
          min={1}
          max={MAX_CATCHUP_WINDOW_SECONDS / 60}
          value={String(values.catchupWindowMinutes)}
        />
      </label>
      <button type="submit">Save</button>
    </form>
  );
}
