import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';
import { type CatalogRow, CatalogSection } from './catalog.tsx';

export type AdminRowView = {
  id: string;
  email: string;
  displayName: string | null;
  createdAt: Date;
  lastLoginAt: Date | null;
  disabledAt: Date | null;
};

export type ApiKeyRowView = {
  id: string;
  kind: 'admin' | 'platform';
  prefix: string;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
};

/** A secret shown once, right after it was created. */
export type RevealedSecret = { title: string; value: string; note: string };

export type SettingsProps = {
  me: { id: string; email: string; timeZone: string | null };
  admins: AdminRowView[];
  adminTokens: ApiKeyRowView[];
  platformKeys: ApiKeyRowView[];
  zones: string[];
  zone: string;
  /** The browser's own zone (its `tz` cookie), for the "My browser's zone" choice; null: unknown. */
  browserZone: string | null;
  images: CatalogRow[];
  revealed?: RevealedSecret | null;
  error?: string | null;
};

export function Revealed({ secret }: { secret: RevealedSecret }) {
  return (
    <div class="flash flash-ok" role="status">
      <strong>{secret.title}</strong>
      <p>{secret.note}</p>
      <div class="secret" id="revealed-secret">
        {secret.value}
      </div>
      <p>
        <button type="button" class="secondary" data-copy="#revealed-secret">
          Copy
        </button>
      </p>
    </div>
  );
}

/** One API key row; swapped in place by htmx after a revoke. */
export function ApiKeyRow({ k, zone }: { k: ApiKeyRowView; zone: string }) {
  return (
    <tr id={`key-${k.id}`}>
      <td>{k.label}</td>
      <td>
        <code>{k.prefix}…</code>
      </td>
      <td>
        <Time at={k.createdAt} zone={zone} />
      </td>
      <td>
        <Time at={k.lastUsedAt} zone={zone} />
      </td>
      <td>{k.revokedAt ? <StatusBadge status="revoked" /> : <StatusBadge status="active" />}</td>
      <td>
        {k.revokedAt ? (
          <span class="muted small">
            <Time at={k.revokedAt} zone={zone} />
          </span>
        ) : (
          <form
            method="post"
            action={`/admin/settings/api-keys/${k.id}/revoke`}
            hx-post={`/admin/settings/api-keys/${k.id}/revoke`}
            hx-target={`#key-${k.id}`}
            hx-swap="outerHTML"
            {...confirmAttrs({
              title: `Revoke "${k.label}"?`,
              detail: 'Anything using it stops working immediately. This cannot be undone.',
              ok: 'Revoke 1 key',
            })}
          >
            <button type="submit" class="danger">
              Revoke
            </button>
          </form>
        )}
      </td>
    </tr>
  );
}

function KeyTable({
  keys,
  zone,
  kind,
}: {
  keys: ApiKeyRowView[];
  zone: string;
  kind: 'admin' | 'platform';
}) {
  if (keys.length === 0)
    return (
      <EmptyState title={kind === 'admin' ? 'No admin API tokens' : 'No platform API keys'}>
        <p>
          {kind === 'admin'
            ? 'Create one for automation that calls /api/admin.'
            : 'Create one for the product apps that call /api/platform.'}
        </p>
      </EmptyState>
    );
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>
            <th>Label</th>
            <th>Prefix</th>
            <th>Created</th>
            <th>Last used</th>
            <th>Status</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {keys.map((k) => (
            <ApiKeyRow k={k} zone={zone} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function CreateKeyForm({ kind }: { kind: 'admin' | 'platform' }) {
  return (
    <form class="toolbar" method="post" action="/admin/settings/api-keys">
      <input type="hidden" name="kind" value={kind} />
      <label>
        Label
        <input
          type="text"
          name="label"
          required
          maxlength={100}
          placeholder={kind === 'admin' ? 'deploy bot' : 'web app'}
        />
      </label>
      <button type="submit">
        {kind === 'admin' ? 'Create admin token' : 'Create platform key'}
      </button>
    </form>
  );
}

export function AdminRow({ a, zone, meId }: { a: AdminRowView; zone: string; meId: string }) {
  return (
    <tr id={`admin-${a.id}`}>
      <td>
        {a.email}
        {a.displayName ? <div class="muted small">{a.displayName}</div> : null}
      </td>
      <td>
        <Time at={a.createdAt} zone={zone} />
      </td>
      <td>
        <Time at={a.lastLoginAt} zone={zone} />
      </td>
      <td>{a.disabledAt ? <StatusBadge status="disabled" /> : <StatusBadge status="active" />}</td>
      <td>
        {a.disabledAt || a.id === meId ? null : (
          <form
            method="post"
            action={`/admin/settings/admins/${a.id}/disable`}
            hx-post={`/admin/settings/admins/${a.id}/disable`}
            hx-target={`#admin-${a.id}`}
            hx-swap="outerHTML"
            {...confirmAttrs({
              title: `Disable ${a.email}?`,
              detail: 'They are signed out and can no longer sign in.',
              ok: 'Disable 1 admin',
            })}
          >
            <button type="submit" class="danger">
              Disable
            </button>
          </form>
        )}
      </td>
    </tr>
  );
}

/** Settings: your account, admins, admin API tokens, platform API keys. */
export function SettingsPage(p: SettingsProps) {
  return (
    <>
      <h1>Settings</h1>
      {p.error ? (
        <div class="flash flash-error" role="alert">
          {p.error}
        </div>
      ) : null}
      {p.revealed ? <Revealed secret={p.revealed} /> : null}
      <section class="panel">
        <h2>Your account</h2>
        <form class="toolbar" method="post" action="/admin/account/time-zone">
          <label>
            Show times in
            <select name="timeZone">
              <option value="" selected={p.me.timeZone === null}>
                My browser's zone{p.browserZone ? ` (${p.browserZone})` : ''}
              </option>
              {p.zones.map((z) => (
                <option value={z} selected={p.me.timeZone === z}>
                  {z}
                </option>
              ))}
            </select>
          </label>
          <button type="submit" class="secondary">
            Save
          </button>
          <a href="/admin/account/password">Change password</a>
        </form>
      </section>
      <CatalogSection images={p.images} zone={p.zone} />
      <section class="panel">
        <h2>Admins</h2>
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Email</th>
                <th>Added</th>
                <th>Last sign-in</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {p.admins.map((a) => (
                <AdminRow a={a} zone={p.zone} meId={p.me.id} />
              ))}
            </tbody>
          </table>
        </div>
        <h2>Add an admin</h2>
        <form class="toolbar" method="post" action="/admin/settings/admins">
          <label>
            Email
            <input type="email" name="email" required />
          </label>
          <label>
            Name (optional)
            <input type="text" name="displayName" maxlength={100} />
          </label>
          <button type="submit">Add admin</button>
        </form>
        <p class="muted small">
          A one-time password is shown once; they choose their own at first sign-in.
        </p>
      </section>
      <section class="panel">
        <h2>Admin API tokens</h2>
        <p class="muted small">
          For automation calling <code>/api/admin</code>: <code>Authorization: Bearer fwa_…</code>
        </p>
        <KeyTable keys={p.adminTokens} zone={p.zone} kind="admin" />
        <CreateKeyForm kind="admin" />
      </section>
      <section class="panel">
        <h2>Platform API keys</h2>
        <p class="muted small">
          For the product's apps calling <code>/api/platform</code>:{' '}
          <code>Authorization: Bearer fwp_…</code>
        </p>
        <KeyTable keys={p.platformKeys} zone={p.zone} kind="platform" />
        <CreateKeyForm kind="platform" />
      </section>
    </>
  );
}
