import type { Reporter, TestModule } from 'vitest/node';

/**
 * A reporter that prints, after the run, the ten test files that held a worker longest
 * (collect + setup + tests and hooks, in seconds), so a slow file shows up in every run.
 */
export default class SlowestFiles implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>) {
    const rows = modules
      .map((m) => {
        const d = m.diagnostic();
        const ms =
          d.environmentSetupDuration +
          d.prepareDuration +
          d.collectDuration +
          d.setupDuration +
          d.duration;
        return { file: m.relativeModuleId, project: m.project.name, ms };
      })
      .sort((a, b) => b.ms - a.ms)
      .slice(0, 10);
    if (!rows.length) return;
    const lines = rows.map(
      (r) =>
        `${(r.ms / 1000).toFixed(1).padStart(7)} s  ${r.file}${r.project ? `  [${r.project}]` : ''}`,
    );
    process.stdout.write(`\nSlowest test files (time holding a worker):\n${lines.join('\n')}\n`);
  }
}
