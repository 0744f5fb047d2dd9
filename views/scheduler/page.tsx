import type { Child } from 'hono/jsx';
import { Flash } from '../components/flash.tsx';
import { type ActionRowView, ActionsFilter, type ActionsQuery, ActionsTable } from './actions.tsx';
import { SchedulerForm, type SchedulerOptions, type SchedulerValues } from './form.tsx';

/** A message above the form; a conflict names the instances that already have an action. */
export type SchedulerFlash = {
  tone: 'ok' | 'error';
  text: string;
  instances?: { id: string; name: string | null }[];
};

export type SchedulerPageProps = {
  values: SchedulerValues;
  options: SchedulerOptions;
  defaultRunAt: string;
  preview: Child;
  flash: SchedulerFlash | null;
  actions: {
    rows: ActionRowView[];
    next: string | null;
    prev: string | null;
    query: ActionsQuery;
    statuses: readonly string[];
  };
  zone: string;
};

/** Scheduler: the form that plans a restart or version rollout, and every action so far. */
export function SchedulerPage(p: SchedulerPageProps) {
  return (
    <>
      <h1>Scheduler</h1>
      <section class="panel">
        <h2>Schedule a restart or version change</h2>
        {p.flash ? (
          <Flash tone={p.flash.tone}>
            {p.flash.text}
            {p.flash.instances?.length ? (
              <ul class="conflicts">
                {p.flash.instances.map((i) => (
                  <li>
                    <a href={`/admin/instances/${i.id}`}>{i.name ?? i.id}</a>
                  </li>
                ))}
              </ul>
            ) : null}
          </Flash>
        ) : null}
        <SchedulerForm
          values={p.values}
          options={p.options}
          zone={p.zone}
          defaultRunAt={p.defaultRunAt}
          preview={p.preview}
        />
      </section>
      <h2>Actions</h2>
      <ActionsFilter query={p.actions.query} statuses={p.actions.statuses} />
      <ActionsTable {...p.actions} zone={p.zone} />
    </>
  );
}
