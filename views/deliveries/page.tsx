import { Flash } from '../components/flash.tsx';
import { SnapshotNote } from '../components/snapshot.tsx';
import { DeadLetterTable } from './dead-letters.tsx';
import { type DoorbellFilter, DoorbellFilters, DoorbellTable } from './doorbells.tsx';
import { ScheduleTable, SweepTable } from './schedules.tsx';
import type { DeadLetterRow, DoorbellRow, ScheduleRow, SweepRow } from './types.ts';

export type { DeadLetterRow, DoorbellRow, ScheduleRow, SweepRow } from './types.ts';

export type DeliveriesProps = {
  doorbells: DoorbellRow[];
  deadLetters: DeadLetterRow[];
  schedules: ScheduleRow[];
  sweeps: SweepRow[];
  /** What could not be read from QStash, per section; that section shows why. */
  errors: { doorbells?: string; deadLetters?: string; schedules?: string };
  filter: DoorbellFilter;
  emulated: boolean;
  zone: string;
  /** When QStash was read: the page is a snapshot, and says so. */
  readAt: Date;
};

function Unreadable({ error }: { error: string }) {
  return <Flash tone="error">Could not read this from QStash: {error}</Flash>;
}

/** Deliveries: recent doorbells, the DLQ (retry, delete), schedules and sweep runs. */
export function DeliveriesPage(p: DeliveriesProps) {
  return (
    <>
      <h1>Deliveries</h1>
      <p class="muted">
        Doorbells are delayed, signed callbacks from{' '}
        {p.emulated ? 'the local QStash emulator' : 'QStash'}; the sweep rings again anything whose
        doorbell was lost.
      </p>
      <section class="panel">
        <h2>Recent doorbells</h2>
        <DoorbellFilters filter={p.filter} />
        {p.errors.doorbells ? <Unreadable error={p.errors.doorbells} /> : null}
        <DoorbellTable rows={p.doorbells} zone={p.zone} />
        <SnapshotNote
          at={p.readAt}
          zone={p.zone}
          href="/admin/deliveries"
          what="The newest 100 doorbells matching the filters"
        />
      </section>
      <section class="panel">
        <h2>Dead-letter queue</h2>
        {p.errors.deadLetters ? (
          <Unreadable error={p.errors.deadLetters} />
        ) : (
          <DeadLetterTable rows={p.deadLetters} zone={p.zone} />
        )}
      </section>
      <section class="panel">
        <h2>Schedules</h2>
        {p.errors.schedules ? <Unreadable error={p.errors.schedules} /> : null}
        <ScheduleTable rows={p.schedules} zone={p.zone} />
      </section>
      <section class="panel">
        <h2>Last sweep runs</h2>
        <SweepTable rows={p.sweeps} zone={p.zone} />
      </section>
    </>
  );
}
