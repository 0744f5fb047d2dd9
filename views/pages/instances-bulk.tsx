/**
 * "Change version" for the instances ticked in the table: apply now (one stage, at once)
 * or open the scheduler with them filled in. The table's checkboxes join this form
 * through their `form` attribute, so they survive htmx swapping the table.
 */
export function BulkToolbar({ availableTags }: { availableTags: string[] }) {
  return (
    <form id="bulk-change" class="toolbar bulk" method="post" action="/admin/instances/apply-now">
      <input type="hidden" name="actionType" value="version_change" />
      <input type="hidden" name="pick" value="ids" />
      <label>
        Change version of the selected to
        <select name="targetImageTag" required>
          {availableTags.map((tag) => (
            <option value={tag}>{tag}</option>
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
      <button
        type="submit"
        data-confirm="Change the version of {n} selected instance(s) now?"
        data-confirm-count="ids"
      >
        Apply now
      </button>
      <button type="submit" class="secondary" formaction="/admin/scheduler" formmethod="get">
        Schedule for later
      </button>
    </form>
  );
}
