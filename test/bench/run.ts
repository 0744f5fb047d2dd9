// `npm run bench` runs every benchmark; `npm run bench -- NAME` runs one.
// Prints one JSON object per figure (see report.ts); progress goes to stderr.
import { cliRunsBench } from './cli-runs.ts';
import { consoleBench } from './console.ts';
import { cronBench } from './cron.ts';
import { doorbellLatenessBench, doorbellPublishBench } from './doorbells.ts';
import { fleetRestartBench } from './fleet-restart.ts';
import { flyClientBench } from './fly-client.ts';
import { instancesListBench } from './instances-list.ts';
import { noticesBench } from './notices.ts';
import { recoveryBench } from './recovery.ts';
import { type Bench, emitter } from './report.ts';
import { schedulerLatenessBench, scheduleTenThousandBench } from './scheduler.ts';
import { schedulerThroughputBench } from './scheduler-throughput.ts';

const BENCHES: Bench[] = [
  instancesListBench,
  doorbellLatenessBench,
  doorbellPublishBench,
  flyClientBench,
  fleetRestartBench,
  scheduleTenThousandBench,
  schedulerLatenessBench,
  schedulerThroughputBench,
  consoleBench,
  cliRunsBench,
  recoveryBench,
  noticesBench,
  cronBench,
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((w) => !BENCHES.some((b) => b.name === w));
if (unknown.length) {
  console.error(
    `Unknown bench: ${unknown.join(', ')}. Available: ${BENCHES.map((b) => b.name).join(', ')}`,
  );
  process.exit(2);
}
for (const bench of BENCHES) {
  if (wanted.length && !wanted.includes(bench.name)) continue;
  console.error(`# ${bench.name}: ${bench.description}`);
  await bench.run(emitter(bench.name));
}
