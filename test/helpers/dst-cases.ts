import type { Wall } from './dst-oracle.ts';

/** docs/cron.md's table of known daylight-saving cases (2026), shared by the unit and HTTP tests. */
export type Case = {
  name: string;
  expression: string;
  /** What the expression matches, stated without parsing it. */
  matches: (w: Wall) => boolean;
  /** docs/cron.md: minute and hour are plain numbers, lists or ranges. */
  fixed: boolean;
  zone: string;
  from: string;
  to: string;
  /** Known answers (UTC), so the oracle is checked too. */
  known: string[];
};

const at = (h: number, m: number) => (w: Wall) => w.hour === h && w.minute === m;

// 2026: New York springs forward 8 March 02:00→03:00 and falls back 1 November 02:00→01:00;
// London 29 March 01:00→02:00 and 25 October 02:00→01:00; Lord Howe (30-minute shift)
// 4 October 02:00→02:30 and 5 April 02:00→01:30; Kolkata keeps +05:30 all year.
export const DST_CASES: Case[] = [
  {
    name: 'New York, fixed time inside the spring gap: once, at 03:00 EDT',
    expression: '30 2 * * *',
    matches: at(2, 30),
    fixed: true,
    zone: 'America/New_York',
    from: '2026-03-07T00:00:00Z',
    to: '2026-03-10T00:00:00Z',
    known: ['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
  },
  {
    name: 'New York, a list of two times inside the gap: still once, at 03:00 EDT',
    expression: '0,30 2 * * *',
    matches: (w) => w.hour === 2 && (w.minute === 0 || w.minute === 30),
    fixed: true,
    zone: 'America/New_York',
    from: '2026-03-08T00:00:00Z',
    to: '2026-03-09T00:00:00Z',
    known: ['2026-03-08T07:00:00.000Z'],
  },
  {
    name: 'New York, fixed time in the repeated hour: the first occurrence only',
    expression: '30 1 * * *',
    matches: at(1, 30),
    fixed: true,
    zone: 'America/New_York',
    from: '2026-10-31T00:00:00Z',
    to: '2026-11-03T00:00:00Z',
    known: ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
  },
  {
    name: 'New York, computing from inside the repeated hour (after the first 01:30): next day',
    expression: '30 1 * * *',
    matches: at(1, 30),
    fixed: true,
    zone: 'America/New_York',
    from: '2026-11-01T06:10:00Z',
    to: '2026-11-03T00:00:00Z',
    known: ['2026-11-02T06:30:00.000Z'],
  },
  {
    name: 'New York, a step in the minute field: both occurrences of the repeated hour',
    expression: '*/30 1 * * *',
    matches: (w) => w.hour === 1 && w.minute % 30 === 0,
    fixed: false,
    zone: 'America/New_York',
    from: '2026-11-01T00:00:00Z',
    to: '2026-11-02T00:00:00Z',
    known: [
      '2026-11-01T05:00:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:00:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ],
  },
  {
    name: 'New York, hourly at :30: nothing inside the gap',
    expression: '30 * * * *',
    matches: (w) => w.minute === 30,
    fixed: false,
    zone: 'America/New_York',
    from: '2026-03-08T05:00:00Z',
    to: '2026-03-08T09:00:00Z',
    known: [
      '2026-03-08T05:30:00.000Z',
      '2026-03-08T06:30:00.000Z',
      '2026-03-08T07:30:00.000Z',
      '2026-03-08T08:30:00.000Z',
    ],
  },
  {
    name: 'New York, hourly at :30: both 01:30s on the fall-back day',
    expression: '30 * * * *',
    matches: (w) => w.minute === 30,
    fixed: false,
    zone: 'America/New_York',
    from: '2026-11-01T04:00:00Z',
    to: '2026-11-01T08:00:00Z',
    known: [
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:30:00.000Z',
      '2026-11-01T07:30:00.000Z',
    ],
  },
  {
    name: 'London, fixed time in the spring gap: 02:00 BST',
    expression: '30 1 * * *',
    matches: at(1, 30),
    fixed: true,
    zone: 'Europe/London',
    from: '2026-03-28T00:00:00Z',
    to: '2026-03-31T00:00:00Z',
    known: ['2026-03-28T01:30:00.000Z', '2026-03-29T01:00:00.000Z', '2026-03-30T00:30:00.000Z'],
  },
  {
    name: 'London, every 20 minutes in hour 1: six fires on the fall-back day',
    expression: '*/20 1 * * *',
    matches: (w) => w.hour === 1 && w.minute % 20 === 0,
    fixed: false,
    zone: 'Europe/London',
    from: '2026-10-25T00:00:00Z',
    to: '2026-10-26T00:00:00Z',
    known: [
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:20:00.000Z',
      '2026-10-25T00:40:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:20:00.000Z',
      '2026-10-25T01:40:00.000Z',
    ],
  },
  {
    name: 'London, Sundays at 01:00 (a weekday field): once on the fall-back Sunday',
    expression: '0 1 * * 0',
    matches: (w) => w.weekday === 0 && w.hour === 1 && w.minute === 0,
    fixed: true,
    zone: 'Europe/London',
    from: '2026-10-20T00:00:00Z',
    to: '2026-11-02T00:00:00Z',
    known: ['2026-10-25T00:00:00.000Z', '2026-11-01T01:00:00.000Z'],
  },
  {
    name: 'Lord Howe, fixed time in the 30-minute spring gap: 02:30',
    expression: '15 2 * * *',
    matches: at(2, 15),
    fixed: true,
    zone: 'Australia/Lord_Howe',
    from: '2026-10-02T00:00:00Z',
    to: '2026-10-05T00:00:00Z',
    known: ['2026-10-02T15:45:00.000Z', '2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'],
  },
  {
    name: 'Lord Howe, fixed time in the repeated half hour: the first occurrence (+11:00)',
    expression: '45 1 * * *',
    matches: at(1, 45),
    fixed: true,
    zone: 'Australia/Lord_Howe',
    from: '2026-04-03T00:00:00Z',
    to: '2026-04-06T00:00:00Z',
    known: ['2026-04-03T14:45:00.000Z', '2026-04-04T14:45:00.000Z', '2026-04-05T15:15:00.000Z'],
  },
  {
    name: 'Lord Howe, every 15 minutes in hour 1: 01:30 and 01:45 twice',
    expression: '*/15 1 * * *',
    matches: (w) => w.hour === 1 && w.minute % 15 === 0,
    fixed: false,
    zone: 'Australia/Lord_Howe',
    from: '2026-04-04T12:00:00Z',
    to: '2026-04-05T12:00:00Z',
    known: [
      '2026-04-04T14:00:00.000Z',
      '2026-04-04T14:15:00.000Z',
      '2026-04-04T14:30:00.000Z',
      '2026-04-04T14:45:00.000Z',
      '2026-04-04T15:00:00.000Z',
      '2026-04-04T15:15:00.000Z',
    ],
  },
  {
    name: 'Lord Howe, every 10 minutes in hour 2: nothing before 02:30 on the spring day',
    expression: '*/10 2 * * *',
    matches: (w) => w.hour === 2 && w.minute % 10 === 0,
    fixed: false,
    zone: 'Australia/Lord_Howe',
    from: '2026-10-03T12:00:00Z',
    to: '2026-10-04T12:00:00Z',
    known: ['2026-10-03T15:30:00.000Z', '2026-10-03T15:40:00.000Z', '2026-10-03T15:50:00.000Z'],
  },
  {
    name: 'Kolkata, no DST: 09:00 is 03:30 UTC every day',
    expression: '0 9 * * *',
    matches: at(9, 0),
    fixed: true,
    zone: 'Asia/Kolkata',
    from: '2026-03-07T00:00:00Z',
    to: '2026-03-10T00:00:00Z',
    known: ['2026-03-07T03:30:00.000Z', '2026-03-08T03:30:00.000Z', '2026-03-09T03:30:00.000Z'],
  },
  {
    name: 'Kolkata, every 45 minutes of the hour (0 and 45) on a US change day: unaffected',
    expression: '*/45 * * * *',
    matches: (w) => w.minute % 45 === 0,
    fixed: false,
    zone: 'Asia/Kolkata',
    from: '2026-11-01T04:00:00Z',
    to: '2026-11-01T07:00:00Z',
    known: [
      '2026-11-01T04:15:00.000Z',
      '2026-11-01T04:30:00.000Z',
      '2026-11-01T05:15:00.000Z',
      '2026-11-01T05:30:00.000Z',
      '2026-11-01T06:15:00.000Z',
      '2026-11-01T06:30:00.000Z',
    ],
  },
];
