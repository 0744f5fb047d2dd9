import { confirmAttrs } from '../components/confirm.tsx';
import { labelOf } from '../components/version.tsx';
import { plural } from '../plural.ts';

/**
 * "Change version" for the instances ticked in the table: apply now (one stage, at once)
 * or open the scheduler with them filled in. The table's checkboxes join this form
 * through their `form` attribute, so they survive htmx swapping the table.
 */
export function BulkToolbar({
  availableTags,
  matching,
}: {
  availableTags: string[];
  /**
   * Every instance the list's filters match, offered to the scheduler as a filter (null while
   * searching): the filter's fields, sent with the version chosen here.
   */
  matching: { total: number; filter: Record<string, string> } | null;
}) {
  return (
    <form id="bulk-change" class="toolbar bulk" method="post" action="/admin/instances/apply-now">
      {/* No `pick` field: the scheduler takes the ticked `ids` unless "Select all matching"
          sends pick=filter with the list's filter below. */}
      <input type="hidden" name="actionType" value="version_change" />
      <input type="hidden" name="when" value="later" />
      {Object.entries(matching?.filter ?? {}).map(([name, value]) => (
        <input type="hidden" name={name} value={value} />
      ))}
      <label>
        Change version of the selected to
        <select name="targetImageTag" required>
          {availableTags.map((tag) => (
            <option value={tag} title={tag}>
              {labelOf(tag)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Reason (optional)
        <input
          type="text"
          name="reason"
          maxlength={500}
          placeholder="Applied now from the instances list"
        />
      </label>
      <output class="muted small" data-selected-count="ids" />
      <button
        type="submit"
        {...confirmAttrs({
          title: {
            one: 'Change the version of {n} ticked instance now?',
            other: 'Change the version of {n} ticked instances now?',
          },
          detail:
            'One stage, due now: each machine restarts on the chosen version; follow it on the page that opens.',
          ok: 'Change {n} now',
          count: 'ids',
          none: 'Nothing was changed: tick at least one instance first.',
        })}
      >
        Apply now
      </button>
      {/* Sent with the hidden when=later above: the scheduler opens set to "At", an hour
          ahead, instead of "Now". */}
      <button type="submit" class="secondary" formaction="/admin/scheduler" formmethod="get">
        Schedule for later
      </button>
      {matching && matching.total > 0 ? (
        <button
          type="submit"
          class="secondary"
          formaction="/admin/scheduler"
          formmethod="get"
          name="pick"
          value="filter"
          id="select-all-matching"
        >
          {plural(matching.total, {
            one: 'Schedule the 1 matching instance…',
            other: 'Select all # matching…',
          })}
        </button>
      ) : null}
    </form>
  );
}
