import type { Child } from 'hono/jsx';
import { DEFAULT_MAX_IN_FLIGHT, MAX_IN_FLIGHT_LIMIT } from '../../src/scheduler/model.ts';
import { labelOf } from '../components/version.tsx';
import { zoneLabel } from '../format.ts';
import { NotifyFields, type NotifyValues } from '../notices/notify-fields.tsx';

/** What the admin typed into the scheduler form, kept as text so it can be shown again. */
export type SchedulerValues = {
  actionType: 'restart' | 'version_change';
  pick: 'ids' | 'filter';
  ids?: string | undefined;
  filterStatus?: string | undefined;
  filterRegion?: string | undefined;
  filterImageTag?: string | undefined;
  versionBelow?: string | undefined;
  hasPin?: '' | 'yes' | 'no' | undefined;
  when: 'now' | 'later';
  runAt?: string | undefined;
  stages?: string | undefined;
  intervalMinutes?: string | undefined;
  failureThresholdPercent?: string | undefined;
  targetImageTag?: string | undefined;
  overridePins?: 'true' | undefined;
  includeStopped?: 'true' | undefined;
  skipAlreadyScheduled?: 'true' | undefined;
  maxInFlight?: string | undefined;
  reason?: string | undefined;
} & NotifyValues;

export type SchedulerOptions = {
  statuses: readonly string[];
  regions: string[];
  /** Every catalog tag (filters). */
  imageTags: string[];
  /** Tags an instance may be moved to. */
  availableTags: string[];
};

/** A drop-down; `versions` shows image tags by their label (the full tag on hover). */
function Select(p: {
  name: string;
  value: string | undefined;
  options: string[];
  any: string;
  versions?: boolean;
}) {
  return (
    <select name={p.name} id={`f-${p.name}`}>
      <option value="">{p.any}</option>
      {p.options.map((o) => (
        <option value={o} selected={p.value === o} title={p.versions ? o : undefined}>
          {p.versions ? labelOf(o) : o}
        </option>
      ))}
    </select>
  );
}

/** Instance picker: pasted ids, or the instances list's filters. */
function Picker({ v, o }: { v: SchedulerValues; o: SchedulerOptions }) {
  return (
    <fieldset>
      <legend>Instances</legend>
      <label class="check">
        <input type="radio" name="pick" value="ids" checked={v.pick === 'ids'} /> Pasted names or
        ids
      </label>
      <textarea
        name="ids"
        rows={4}
        placeholder="Instance names or ids, one per line or comma-separated"
      >
        {v.ids ?? ''}
      </textarea>
      <label class="check">
        <input type="radio" name="pick" value="filter" checked={v.pick === 'filter'} /> Every
        instance matching
      </label>
      <div class="toolbar">
        <label for="f-filterStatus">
          Status
          <Select name="filterStatus" value={v.filterStatus} options={[...o.statuses]} any="Any" />
        </label>
        <label for="f-filterRegion">
          Region
          <Select name="filterRegion" value={v.filterRegion} options={o.regions} any="Any" />
        </label>
        <label for="f-filterImageTag">
          Current version
          <Select
            name="filterImageTag"
            value={v.filterImageTag}
            options={o.imageTags}
            any="Any"
            versions
          />
        </label>
        <label for="f-versionBelow">
          Version below
          <Select
            name="versionBelow"
            value={v.versionBelow}
            options={o.imageTags}
            any="—"
            versions
          />
        </label>
        <label>
          Pinned
          <select name="hasPin">
            <option value="">Either</option>
            <option value="yes" selected={v.hasPin === 'yes'}>
              Pinned
            </option>
            <option value="no" selected={v.hasPin === 'no'}>
              Not pinned
            </option>
          </select>
        </label>
      </div>
    </fieldset>
  );
}

/**
 * The form that schedules a restart or a version change. Every change posts it to the
 * preview (htmx), which answers with counts and stage times; submitting it shows the
 * confirmation step, which alone schedules.
 */
export function SchedulerForm(p: {
  values: SchedulerValues;
  options: SchedulerOptions;
  zone: string;
  /** The run time's default: an hour ahead, as wall-clock time in the zone. */
  defaultRunAt: string;
  preview: Child;
}) {
  const v = p.values;
  return (
    <form id="schedule-form" class="schedule-form" method="post" action="/admin/scheduler/confirm">
      <div class="grid2">
        <div class="stack">
          <fieldset>
            <legend>Action</legend>
            <label>
              Type
              <select name="actionType">
                <option value="restart">Restart</option>
                <option value="version_change" selected={v.actionType === 'version_change'}>
                  Version change
                </option>
              </select>
            </label>
            <label for="f-targetImageTag">
              Target version (version changes)
              <Select
                name="targetImageTag"
                value={v.targetImageTag}
                options={p.options.availableTags}
                any="—"
                versions
              />
            </label>
            <label class="check">
              <input
                type="checkbox"
                name="overridePins"
                value="true"
                checked={v.overridePins === 'true'}
              />{' '}
              Override pins (pinned instances move too; their pin moves to the target)
            </label>
            <label class="check">
              <input
                type="checkbox"
                name="includeStopped"
                value="true"
                checked={v.includeStopped === 'true'}
              />{' '}
              Include stopped instances (version changes; they stay stopped on the new version)
            </label>
          </fieldset>
          <Picker v={v} o={p.options} />
        </div>
        <div class="stack">
          <fieldset>
            <legend>Run time</legend>
            <label class="check">
              <input type="radio" name="when" value="now" checked={v.when === 'now'} /> Now
            </label>
            <label class="check">
              <input type="radio" name="when" value="later" checked={v.when === 'later'} /> At
            </label>
            <label>
              <input type="datetime-local" name="runAt" value={v.runAt || p.defaultRunAt} />
              <span class="muted small">
                in {zoneLabel(p.zone)} · <a href="/admin/settings">change zone</a>
              </span>
            </label>
          </fieldset>
          <fieldset>
            <legend>Rollout</legend>
            <label>
              Stages (cumulative %)
              <input type="text" name="stages" value={v.stages ?? '100'} placeholder="1, 10, 100" />
            </label>
            <label>
              Interval between stages (minutes)
              <input
                type="number"
                name="intervalMinutes"
                min={0}
                value={v.intervalMinutes ?? '0'}
              />
            </label>
            <label>
              Failure gate (%; halt when more of a stage fails; empty: never)
              <input
                type="number"
                name="failureThresholdPercent"
                min={0}
                max={100}
                value={v.failureThresholdPercent ?? ''}
              />
            </label>
            <label>
              At most this many at once (1–{MAX_IN_FLIGHT_LIMIT.toLocaleString('en')})
              <input
                type="number"
                name="maxInFlight"
                min={1}
                max={MAX_IN_FLIGHT_LIMIT}
                value={v.maxInFlight ?? String(DEFAULT_MAX_IN_FLIGHT)}
              />
            </label>
          </fieldset>
          <NotifyFields v={v} />
          <label>
            Reason (shown to admins and in the audit log)
            <input type="text" name="reason" required maxlength={500} value={v.reason ?? ''} />
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="skipAlreadyScheduled"
              value="true"
              checked={v.skipAlreadyScheduled === 'true'}
            />{' '}
            Skip instances that already have a pending action
          </label>
          <div>
            <button type="submit">Review…</button>{' '}
            <span class="muted small">Nothing is scheduled until you confirm.</span>
          </div>
        </div>
      </div>
      {/* The preview posts the enclosing form; on this element (not the form) so htmx does
          not hold the request back until required fields such as the reason are filled. */}
      <section
        id="preview"
        class="preview"
        aria-live="polite"
        hx-post="/admin/scheduler/preview"
        hx-trigger="change delay:400ms from:#schedule-form, keyup changed delay:600ms from:textarea"
        hx-swap="innerHTML"
      >
        {p.preview}
      </section>
    </form>
  );
}
