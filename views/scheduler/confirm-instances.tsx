import { Version } from '../components/version.tsx';
import { count } from '../plural.ts';

export type EligibleRow = {
  id: string;
  name: string;
  region: string;
  imageTag: string | null;
  userEmail: string;
};

export const CONFIRM_PAGE_SIZE = 50;

/**
 * The instances the confirmation is about, a page at a time (by name). The pager posts the
 * confirmation's own hidden fields (`#confirm-form`) back for the next page, in place.
 */
export function ConfirmInstances(p: { rows: EligibleRow[]; total: number; offset: number }) {
  const pageButton = (offset: number, label: string, rel: string) => (
    <button
      type="button"
      class="secondary"
      rel={rel}
      hx-post={`/admin/scheduler/confirm/instances?offset=${offset}`}
      hx-include="#confirm-form"
      hx-target="#confirm-instances"
      hx-swap="outerHTML"
    >
      {label}
    </button>
  );
  const last = Math.min(p.offset + p.rows.length, p.total);
  return (
    <div id="confirm-instances">
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>Instance · owner</th>
              <th>Region</th>
              <th>Version now</th>
            </tr>
          </thead>
          <tbody>
            {p.rows.map((r) => (
              <tr data-instance-id={r.id}>
                <td>
                  <a href={`/admin/instances/${r.id}`}>{r.name}</a>
                  <div class="muted small">{r.userEmail}</div>
                </td>
                <td>{r.region}</td>
                <td>
                  <Version tag={r.imageTag} />
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Instances to confirm">
        <span class="muted small">
          {p.total ? `${p.offset + 1}–${last} of ${count(p.total, 'instance')}` : ''}
        </span>
        <span>
          {p.offset > 0
            ? pageButton(Math.max(0, p.offset - CONFIRM_PAGE_SIZE), '← Previous', 'prev')
            : null}{' '}
          {last < p.total ? pageButton(last, 'Next →', 'next') : null}
        </span>
      </nav>
    </div>
  );
}
