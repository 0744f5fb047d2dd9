import { StatusBadge, toneOf } from '../components/badge.tsx';
import { BarChart, DonutChart } from '../components/charts.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Progress } from '../components/progress.tsx';
import { Time } from '../components/time.tsx';
import { labelOf } from '../components/version.tsx';
import { count } from '../plural.ts';
import { type ActionRowView, Counters } from '../scheduler/actions.tsx';
import { ACTION_LABEL, doneOf } from '../scheduler/words.ts';

export type Tally = { key: string; n: number };

export type OverviewCounts = {
  total: number;
  byStatus: Tally[];
  byRegion: Tally[];
  byVersion: (Tally & { label: string | null })[];
};

export type OverviewFailures = {
  instances: { id: string; name: string; lastError: string | null; at: Date }[];
  actions: ActionRowView[];
  targets: {
    id: string;
    actionId: string;
    instanceId: string;
    instanceName: string;
    error: string | null;
    at: Date | null;
  }[];
};

/** Running actions, then the next scheduled ones, each with its progress. */
export function LiveActions({ rows, zone }: { rows: ActionRowView[]; zone: string }) {
  const live = rows.some(
    (a) => a.status === 'running' || a.status === 'scheduled' || a.status === 'cancelling',
  );
  return (
    <div
      id="overview-live"
      {...(live
        ? {
            'data-poll': '',
            'hx-get': '/admin/overview/live',
            'hx-trigger': 'every 3s',
            'hx-swap': 'outerHTML',
          }
        : {})}
    >
      {rows.length === 0 ? (
        <EmptyState title="Nothing running or scheduled">
          <p>
            <a href="/admin/scheduler">Schedule a restart or version change</a>, or pick instances
            on the <a href="/admin/instances">instances list</a>.
          </p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Action</th>
                <th>Status</th>
                <th>Progress</th>
                <th>Run time</th>
                <th>Reason</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((a) => (
                <tr data-action-id={a.id}>
                  <td>
                    <a href={`/admin/scheduler/${a.id}`}>
                      {ACTION_LABEL[a.actionType] ?? a.actionType} of {count(a.total, 'instance')}
                    </a>
                    {a.targetImageTag && a.actionType === 'version_change' ? (
                      <div class="small">
                        →{' '}
                        <code class="version" title={a.targetImageTag}>
                          {labelOf(a.targetImageTag)}
                        </code>
                      </div>
                    ) : null}
                  </td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>
                    <Progress done={doneOf(a)} total={a.total} label="Finished targets" />
                    <div>
                      <Counters c={a} />
                    </div>
                  </td>
                  <td>
                    <Time at={a.runAt} zone={zone} />
                  </td>
                  <td>{a.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </div>
  );
}

function Failures({ f, zone }: { f: OverviewFailures; zone: string }) {
  const none = !f.instances.length && !f.actions.length && !f.targets.length;
  if (none)
    return (
      <EmptyState title="No recent failures">
        <p>Failed instances, halted rollouts and failed targets would be listed here.</p>
      </EmptyState>
    );
  return (
    <div class="grid2">
      <div>
        <h3>Instances that failed</h3>
        {f.instances.length ? (
          <ul class="plain" id="failed-instances">
            {f.instances.map((i) => (
              <li>
                <a href={`/admin/instances/${i.id}`}>{i.name}</a> <StatusBadge status="failed" />{' '}
                <Time at={i.at} zone={zone} />
                {i.lastError ? <div class="small error-text">{i.lastError}</div> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted small">None.</p>
        )}
      </div>
      <div>
        <h3>Rollouts halted or failed</h3>
        {f.actions.length ? (
          <ul class="plain" id="failed-actions">
            {f.actions.map((a) => (
              <li>
                <a href={`/admin/scheduler/${a.id}`}>
                  {ACTION_LABEL[a.actionType] ?? a.actionType} of {count(a.total, 'instance')}
                </a>{' '}
                <StatusBadge status={a.status} /> <Time at={a.runAt} zone={zone} />
                <div class="small">
                  <Counters c={a} />
                </div>
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted small">None.</p>
        )}
        <h3>Failed targets</h3>
        {f.targets.length ? (
          <ul class="plain" id="failed-targets">
            {f.targets.map((t) => (
              <li>
                <a href={`/admin/instances/${t.instanceId}`}>{t.instanceName}</a> in{' '}
                <a href={`/admin/scheduler/${t.actionId}?status=failed#targets`}>its action</a>{' '}
                <Time at={t.at} zone={zone} />
                {t.error ? <div class="small error-text">{t.error}</div> : null}
              </li>
            ))}
          </ul>
        ) : (
          <p class="muted small">None.</p>
        )}
      </div>
    </div>
  );
}

/**
 * The console's landing page: the fleet by status, version and region, what is running or
 * about to run (live), and what failed lately, each linking to where it can be acted on.
 */
export function OverviewPage(p: {
  counts: OverviewCounts;
  live: ActionRowView[];
  failures: OverviewFailures;
  zone: string;
}) {
  const c = p.counts;
  return (
    <>
      <h1>Overview</h1>
      <div class="cards">
        <section class="panel" id="chart-status">
          <h2>
            <a href="/admin/instances">{count(c.total, 'instance')}</a> by status
          </h2>
          <DonutChart
            label="instances"
            data={c.byStatus.map((s) => ({ label: s.key, value: s.n, tone: toneOf(s.key) }))}
          />
        </section>
        <section class="panel" id="chart-version">
          <h2>By version</h2>
          <BarChart
            label="Instances by version"
            data={c.byVersion.map((v) => ({
              label: v.key ? (v.label ?? labelOf(v.key)) : 'none',
              value: v.n,
              title: v.key || 'no image',
            }))}
          />
        </section>
        <section class="panel" id="chart-region">
          <h2>By region</h2>
          <BarChart
            label="Instances by region"
            data={c.byRegion.map((r) => ({ label: r.key, value: r.n }))}
          />
        </section>
      </div>
      <section class="panel">
        <h2>
          Running and upcoming actions{' '}
          <a class="small" href="/admin/scheduler">
            all actions →
          </a>
        </h2>
        <LiveActions rows={p.live} zone={p.zone} />
      </section>
      <section class="panel">
        <h2>Recent failures</h2>
        <Failures f={p.failures} zone={p.zone} />
      </section>
    </>
  );
}
