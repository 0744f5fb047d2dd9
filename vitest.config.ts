import { defineConfig } from 'vitest/config';

/**
 * Files that keep a core busy (a browser rendering pages, a Deno or Node child process
 * compiling the app, PGlite, the fuzzer): more of them than cores only slow each other down, so
 * they run in their own project after the rest, one per core of this 2-core machine.
 * (The scheduler's fast-check property test is not among them: it waits on PostgreSQL
 * more than it computes, under half a core.)
 */
const HEAVY = [
  'test/e2e/**/*.test.{ts,tsx}',
  'test/integration/deno-smoke.test.ts',
  'test/integration/embedded-start.test.ts',
  'test/integration/embedded-second-start.test.ts',
  'test/integration/api-fuzz.test.ts',
  // PGlite (PostgreSQL compiled to WebAssembly) migrating databases in this process.
  'test/integration/migration-streams.test.ts',
];
const HEAVY_WORKERS = Number(process.env.TEST_HEAVY_WORKERS ?? 2);

/**
 * The rest wait on PostgreSQL, HTTP and timers far more than they compute (under half a
 * core each), so several run at once: three, leaving the PostgreSQL server its share of the
 * two cores (with four, CPU-heavy tests such as scheduling 10,000 instances ran into their
 * timeouts on a loaded machine). Each file has its own database cloned from a
 * migrated template, so files never see each other's rows; the server allows 300
 * connections (test/helpers/postgres.ts), far above workers × a file's pools (10–50).
 */
const WAITING_WORKERS = Number(process.env.TEST_WORKERS ?? 3);

const common = {
  pool: 'forks',
  // A worker keeps its modules from one file to the next: importing the app costs about
  // 3 s of CPU, which every file paid again when isolated. Files share no state but
  // caches: each builds its own app, database and stand-ins (test/helpers/app.ts).
  isolate: false,
  testTimeout: 30_000,
  hookTimeout: 120_000,
} as const;

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    teardownTimeout: 30_000,
    reporters: ['default', './test/helpers/slowest-files.ts'],
    projects: [
      {
        test: {
          ...common,
          name: 'waiting',
          include: ['test/**/*.test.{ts,tsx}'],
          exclude: HEAVY,
          maxWorkers: WAITING_WORKERS,
          sequence: { groupOrder: 0 },
        },
      },
      {
        test: {
          ...common,
          name: 'heavy',
          include: HEAVY,
          // A Node or Deno start compiles the app before it listens: seconds of CPU.
          testTimeout: 60_000,
          // A browser waits for the page's event (htmx swaps, live updates), polling for it;
          // on a loaded 2-core machine that can take seconds, not vitest's default 1 s.
          expect: { poll: { timeout: 10_000, interval: 50 } },
          // One Chromium for every browser file (only when this project has files to run).
          globalSetup: ['test/helpers/browser-setup.ts'],
          maxWorkers: HEAVY_WORKERS,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
