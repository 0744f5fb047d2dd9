import { StatusBadge } from '../components/badge.tsx';
import { Time } from '../components/time.tsx';
import { type AuditRowView, AuditTable } from './audit.tsx';

export type InstanceDetailView = {
  id: string;
  name: string;
  appName: string;
  machineId: string | null;
  volumeId: string | null;
  region: string;
  imageTag: string | null;
  status: string;
  createdAt: Date;
  updatedAt: Date;
  user: { id: string; email: string; displayName: string | null };
  pinnedImageTag: string | null;
};

/** One instance: facts, owner, pin, and what admins did to it. Later issues add sections. */
export function InstancePage({
  instance: i,
  audit,
  zone,
}: {
  instance: InstanceDetailView;
  audit: AuditRowView[];
  zone: string;
}) {
  return (
    <>
      <p class="small">
        <a href="/admin/instances">← Instances</a>
      </p>
      <h1>
        {i.name} <StatusBadge status={i.status} />
      </h1>
      <div class="grid2">
        <section class="panel">
          <h2>Instance</h2>
          <dl class="facts">
            <dt>Id</dt>
            <dd>
              <code>{i.id}</code>
            </dd>
            <dt>Fly app</dt>
            <dd>
              <code>{i.appName}</code>
            </dd>
            <dt>Machine</dt>
            <dd>
              <code>{i.machineId ?? '—'}</code>
            </dd>
            <dt>Volume</dt>
            <dd>
              <code>{i.volumeId ?? '—'}</code>
            </dd>
            <dt>Region</dt>
            <dd>{i.region}</dd>
            <dt>Version</dt>
            <dd>
              <code>{i.imageTag ?? '—'}</code>
            </dd>
            <dt>Pin</dt>
            <dd>
              {i.pinnedImageTag ? (
                <code>{i.pinnedImageTag}</code>
              ) : (
                <span class="muted">Not pinned</span>
              )}
            </dd>
            <dt>Created</dt>
            <dd>
              <Time at={i.createdAt} zone={zone} />
            </dd>
            <dt>Updated</dt>
            <dd>
              <Time at={i.updatedAt} zone={zone} />
            </dd>
          </dl>
        </section>
        <section class="panel">
          <h2>Owner</h2>
          <dl class="facts">
            <dt>Name</dt>
            <dd>{i.user.displayName ?? '—'}</dd>
            <dt>Email</dt>
            <dd>{i.user.email}</dd>
            <dt>User id</dt>
            <dd>
              <code>{i.user.id}</code>
            </dd>
          </dl>
        </section>
      </div>
      <section class="panel">
        <h2>Live machine</h2>
        <p class="muted">The live Fly Machine view arrives with the Fly Machines integration.</p>
      </section>
      <section>
        <h2>Audit entries</h2>
        <AuditTable rows={audit} zone={zone} empty="No admin has acted on this instance yet." />
        <p class="small">
          <a href={`/admin/audit?subjectType=instance&subjectId=${i.id}`}>
            All audit entries for this instance →
          </a>
        </p>
      </section>
    </>
  );
}
