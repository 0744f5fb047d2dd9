import { Hono } from 'hono';
import { connect } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { createFlyClient, type FlyClient } from '../../src/adapters/fly/client.ts';
import { createFlySimulator } from '../../src/dev-servers/fly-simulator/index.ts';
import { adminQuery, startTestServer, withDatabase } from '../helpers/postgres.ts';
import type { Bench, Emit } from './report.ts';

const MACHINES = 100;
const SECONDS = 3;

/** Calls `op` back to back for `SECONDS` and reports calls per second. */
async function throughput(emit: Emit, metric: string, op: () => Promise<unknown>, context: object) {
  for (let i = 0; i < 20; i++) await op();
  let calls = 0;
  const started = performance.now();
  while (performance.now() - started < SECONDS * 1000) {
    await op();
    calls++;
  }
  const elapsed = (performance.now() - started) / 1000;
  emit(metric, calls / elapsed, 'per_s', {
    ...context,
    calls,
    seconds: Math.round(elapsed * 10) / 10,
  });
}

async function seed(client: FlyClient, app: string): Promise<string[]> {
  await client.createApp(app);
  const ids: string[] = [];
  for (let i = 0; i < MACHINES; i++) {
    const m = await client.createMachine(app, {
      config: { image: 'registry.fly.io/agent:v1.2.0', metadata: { instance: `i-${i}` } },
      region: ['ams', 'iad', 'sin'][i % 3],
    });
    ids.push(m.id);
  }
  return ids;
}

export const flyClientBench: Bench = {
  name: 'fly-client',
  description: `Fly client against the in-process simulator (zero latency, real PostgreSQL, limiter off): calls/s over ${SECONDS} s each, ${MACHINES} machines`,
  async run(emit: Emit) {
    const pg = await startTestServer();
    const name = `fw_bench_fly_${Date.now()}`;
    await adminQuery(pg.adminUrl, [`create database ${name}`]);
    const database = await connect({ kind: 'postgres', url: withDatabase(pg.adminUrl, name) });
    try {
      await migrate(database, 'dev'); // the simulator's tables are all it needs
      // Transitions take no time, so every machine has settled before measuring.
      const sim = createFlySimulator({ db: database.db, timeScale: 0 });
      const host = new Hono().route('/__dev/fly', sim);
      const client = createFlyClient({
        baseUrl: 'http://fly.bench/__dev/fly',
        token: 'bench',
        rateLimit: false,
        fetch: async (input, init) => host.fetch(new Request(input, init)),
      });
      const app = 'bench-agents';
      const seedStarted = performance.now();
      const ids = await seed(client, app);
      emit('create_machine_per_s', MACHINES / ((performance.now() - seedStarted) / 1000), 'per_s', {
        machines: MACHINES,
      });
      let i = 0;
      const context = { machines: MACHINES, database: 'postgresql', transport: 'in-process' };
      await throughput(
        emit,
        'get_machine_per_s',
        () => client.getMachine(app, ids[i++ % ids.length] ?? ''),
        context,
      );
      await throughput(emit, 'list_machines_per_s', () => client.listMachines(app), context);
      await throughput(
        emit,
        'list_machines_summary_per_s',
        () => client.listMachines(app, { summary: true }),
        context,
      );
      await throughput(
        emit,
        'list_machines_by_metadata_per_s',
        () => client.listMachines(app, { metadata: { instance: `i-${i++ % MACHINES}` } }),
        context,
      );
    } finally {
      await database.close();
      await adminQuery(pg.adminUrl, [`drop database if exists ${name} with (force)`]).catch(
        () => {},
      );
      await pg.stop();
    }
  },
};
