import { StatusBadge } from '../components/badge.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Pager } from '../components/pager.tsx';
import { SnapshotNote } from '../components/snapshot.tsx';
import { Time } from '../components/time.tsx';
import { labelOf, Version } from '../components/version.tsx';
import { count, plural } from '../plural.ts';
import { AddInstances } from './instances-add.tsx';
import { BulkToolbar } from './instances-bulk.tsx';

export type InstanceRow = {
  id: string;
  name: string;
  appName: string;
  machineId: string | null;
  region: string;
  imageTag: string | null;
  status: string;
  createdAt: Date;
  user: { email: string; displayName: string | null };
  pinnedImageTag: string | null;
};

export type InstancesQuery = {
  q?: string | undefined;
  status?: string | undefined;
  region?: string | undefined;
  imageTag?: string | undefined;
  sort: string;
  order: 'asc' | 'desc';
  /** Rows per page when not the default (50). */
  limit?: string | undefined;
};

export type InstancesProps = {
  rows: InstanceRow[];
  total: number;
  next: string | null;
  prev: string | null;
  query: InstancesQuery;
  facets: { regions: string[]; imageTags: string[]; statuses: readonly string[] };
  zone: string;
  /** When the list was read: it does not update itself (ticked rows would be lost), and says so. */
  readAt: Date;
};

function href(query: InstancesQuery, extra: Record<string, string | undefined> = {}): string {
  const params = new URLSearchParams();
  const all: Record<string, string | undefined> = { ...query, ...extra };
  for (const [k, v] of Object.entries(all)) if (v) params.set(k, v);
  const s = params.toString();
  return `/admin/instances${s ? `?${s}` : ''}`;
}

function SortHeader({
  label,
  sort,
  query,
}: {
  label: string;
  sort: string;
  query: InstancesQuery;
}) {
  const active = query.sort === sort;
  const order = active && query.order === 'asc' ? 'desc' : 'asc';
  const url = href(query, { sort, order, cursor: undefined });
  return (
    <th aria-sort={active ? (query.order === 'asc' ? 'ascending' : 'descending') : undefined}>
      <a href={url} hx-get={url} hx-target="#instances-table" hx-push-url="true">
        {label} {active ? (query.order === 'asc' ? '▲' : '▼') : ''}
      </a>
    </th>
  );
}

/** The table and pager: swapped alone when filters, sort or page change (htmx). */
export function InstancesTable({ rows, total, next, prev, query, zone, readAt }: InstancesProps) {
  const filtered = Boolean(query.q || query.status || query.region || query.imageTag);
  return (
    <div id="instances-table">
      {rows.length === 0 ? (
        <div class="table-wrap">
          <EmptyState title={filtered ? 'No instances match these filters' : 'No instances yet'}>
            {filtered ? (
              <p>
                <a href="/admin/instances">Clear the filters</a> to see every instance.
              </p>
            ) : (
              <p>Instances appear here once they are provisioned or imported from a Fly app.</p>
            )}
          </EmptyState>
        </div>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th class="select">
                  <input
                    type="checkbox"
                    data-select-all="ids"
                    aria-label="Select all on this page"
                  />
                </th>
                <SortHeader label="Name" sort="name" query={query} />
                <th>Owner</th>
                <SortHeader label="Status" sort="status" query={query} />
                <SortHeader label="Region" sort="region" query={query} />
                <SortHeader label="Version" sort="version" query={query} />
                <th>Machine</th>
                <SortHeader label="Created" sort="created" query={query} />
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr>
                  <td class="select">
                    <input
                      type="checkbox"
                      name="ids"
                      value={r.id}
                      form="bulk-change"
                      aria-label={`Select ${r.name}`}
                    />
                  </td>
                  <td>
                    <a href={`/admin/instances/${r.id}`}>{r.name}</a>
                  </td>
                  <td>
                    {r.user.displayName ?? r.user.email}
                    {r.user.displayName ? <div class="muted small">{r.user.email}</div> : null}
                  </td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{r.region}</td>
                  <td>
                    <Version tag={r.imageTag} />
                    {r.pinnedImageTag ? (
                      <span class="badge badge-info" title={`Pinned to ${r.pinnedImageTag}`}>
                        pinned
                      </span>
                    ) : null}
                  </td>
                  <td>
                    <code>{r.machineId ?? '—'}</code>
                  </td>
                  <td>
                    <Time at={r.createdAt} zone={zone} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <Pager
        prev={prev}
        next={next}
        href={(cursor) => href(query, { cursor })}
        target="#instances-table"
        summary={
          filtered
            ? plural(total, { one: '# instance matches', other: '# instances match' })
            : count(total, 'instance')
        }
      />
      <SnapshotNote at={readAt} zone={zone} href={href(query)} what="This list" />
    </div>
  );
}

/** Instances: search, filters, sortable columns, keyset pages. */
export function InstancesPage(props: InstancesProps & { flyApp: string; availableTags: string[] }) {
  const { query, facets } = props;
  return (
    <>
      <h1>Instances</h1>
      <AddInstances imageTags={facets.imageTags} flyApp={props.flyApp} />
      <form
        id="instance-filters"
        class="toolbar"
        method="get"
        action="/admin/instances"
        hx-get="/admin/instances"
        hx-target="#instances-table"
        hx-push-url="true"
        hx-trigger="input changed delay:300ms from:input[name=q], change from:(#instance-filters select), submit"
      >
        <label>
          Search
          <input
            type="search"
            name="q"
            value={query.q ?? ''}
            placeholder="name, machine, owner email…"
          />
        </label>
        <label>
          Status
          <select name="status">
            <option value="">Any</option>
            {facets.statuses.map((s) => (
              <option value={s} selected={query.status === s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <label>
          Region
          <select name="region">
            <option value="">Any</option>
            {facets.regions.map((r) => (
              <option value={r} selected={query.region === r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Version
          <select name="imageTag">
            <option value="">Any</option>
            {facets.imageTags.map((t) => (
              <option value={t} selected={query.imageTag === t} title={t}>
                {labelOf(t)}
              </option>
            ))}
          </select>
        </label>
        <label>
          Per page
          <select name="limit">
            {['25', '50', '100', '200'].map((n) => (
              <option value={n} selected={(query.limit ?? '50') === n}>
                {n}
              </option>
            ))}
          </select>
        </label>
        <input type="hidden" name="sort" value={query.sort} />
        <input type="hidden" name="order" value={query.order} />
        <button type="submit" class="secondary">
          Apply
        </button>
      </form>
      <BulkToolbar
        availableTags={props.availableTags}
        matching={
          // The scheduler's filter has no text search: offer "all matching" without one.
          query.q
            ? null
            : {
                total: props.total,
                filter: {
                  ...(query.status ? { filterStatus: query.status } : {}),
                  ...(query.region ? { filterRegion: query.region } : {}),
                  ...(query.imageTag ? { filterImageTag: query.imageTag } : {}),
                },
              }
        }
      />
      <InstancesTable {...props} />
    </>
  );
}
