import { StatusBadge } from '../components/badge.tsx';
import { Time } from '../components/time.tsx';

export type LiveView = {
  machine: {
    id: string;
    state: string;
    region: string;
    instance_id: string;
    image: string | null;
    host_status: string | null;
    updated_at: string;
  } | null;
  volume: {
    id: string;
    state: string;
    size_gb: number;
    region: string;
    zone: string | null;
  } | null;
  snapshots: {
    id: string;
    created_at: string;
    size: number | null;
    retention_days: number | null;
  }[];
  error: string | null;
};

/** What Fly reports about the machine, its volume and snapshots; refreshed in place. */
export function LivePanel({
  instanceId,
  live,
  readAt,
  zone,
}: {
  instanceId: string;
  live: LiveView;
  readAt: Date;
  zone: string;
}) {
  const m = live.machine;
  return (
    <div id="live">
      <p class="small muted">
        Read from Fly at <Time at={readAt} zone={zone} />.{' '}
        <button
          type="button"
          class="secondary"
          hx-get={`/admin/instances/${instanceId}/live`}
          hx-target="#live"
          hx-swap="outerHTML"
        >
          Refresh
        </button>
      </p>
      {live.error ? (
        <div class="flash flash-warn" role="status">
          Fly did not answer everything: {live.error}
        </div>
      ) : null}
      {m ? (
        <dl class="facts">
          <dt>State</dt>
          <dd>
            <StatusBadge status={m.state} />
          </dd>
          <dt>Region</dt>
          <dd>{m.region}</dd>
          <dt>Image</dt>
          <dd>
            <code>{m.image ?? '—'}</code>
          </dd>
          <dt>Version</dt>
          <dd>
            <code>{m.instance_id}</code>
          </dd>
          <dt>Host</dt>
          <dd>
            {m.host_status === 'ok' || !m.host_status ? (
              'ok'
            ) : (
              <StatusBadge status={m.host_status} />
            )}
          </dd>
          <dt>Updated</dt>
          <dd class="small">
            <Time at={new Date(m.updated_at)} zone={zone} />
          </dd>
        </dl>
      ) : (
        <p class="muted">No machine.</p>
      )}
      <h3>Volume</h3>
      {live.volume ? (
        <dl class="facts">
          <dt>Volume</dt>
          <dd>
            <code>{live.volume.id}</code> <StatusBadge status={live.volume.state} />
          </dd>
          <dt>Size</dt>
          <dd>{live.volume.size_gb} GB</dd>
          <dt>Placement</dt>
          <dd>
            {live.volume.region}
            {live.volume.zone ? ` / zone ${live.volume.zone}` : ''}
          </dd>
        </dl>
      ) : (
        <p class="muted">No volume.</p>
      )}
      <h3>Snapshots</h3>
      {live.snapshots.length ? (
        <ul class="small">
          {live.snapshots.map((s) => (
            <li>
              <code>{s.id}</code> · <Time at={new Date(s.created_at)} zone={zone} />
              {s.size !== null ? ` · ${Math.round(s.size / 1024)} KiB` : ''}
              {s.retention_days !== null ? ` · kept ${s.retention_days} days` : ''}
            </li>
          ))}
        </ul>
      ) : (
        <p class="muted small">No snapshots.</p>
      )}
    </div>
  );
}
