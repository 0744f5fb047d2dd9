// The controller's entry: configuration, the stored runs and sessions (those its previous
// process left live end `failed`), the HTTP server, and a clean stop on SIGTERM/SIGINT.
import { bearerChecker } from './auth.ts';
import { createCliRuns } from './cli-runs.ts';
import { parseConfig } from './config.ts';
import { createHttpServer } from './http.ts';
import { createJobs } from './jobs.ts';
import { createLog } from './log.ts';
import { controllerRoutes, VERSION } from './routes.ts';
import { createSessions } from './sessions.ts';
import { createStore } from './store.ts';

const parsed = parseConfig(process.env);
if (!parsed.ok) {
  console.error(`fleetwarden-controller: ${parsed.message}`);
  process.exit(1);
}
const { config } = parsed;
const log = createLog(config.logLevel);
const store = createStore(config.dataDir);
const jobs = createJobs({ store, log, graceMs: config.graceMs, token: config.token });
await jobs.recover();
const pruned = jobs.prune(config.retainDays);
setInterval(() => jobs.prune(config.retainDays), 3_600_000).unref();
if (!config.cliRun) log.warn('config.no_cli_run_command', { effect: 'CLI-run starts answer 400' });

const server = createHttpServer({
  routes: controllerRoutes({
    runs: createCliRuns({ jobs, store, config }),
    sessions: createSessions({ jobs, config }),
  }),
  authorized: bearerChecker(config.token),
  log,
});
server.on('error', (error) => {
  log.error('controller.listen_failed', { error });
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  log.info('controller.listening', {
    host: config.host,
    port,
    contract: VERSION,
    dataDir: config.dataDir,
    pruned,
  });
});

let stopping = false;
async function stop(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info('controller.stopping', { signal });
  server.close();
  // Nothing would follow them once this process is gone: they end now, with the reason.
  await jobs.stopAll(
    (kind) =>
      `the controller stopped (${signal}) while this ${kind === 'run' ? 'CLI run' : 'session'} was live`,
  );
  process.exit(0);
}
process.on('SIGTERM', () => void stop('SIGTERM'));
process.on('SIGINT', () => void stop('SIGINT'));
