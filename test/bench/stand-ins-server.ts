// The local stand-ins (QStash emulator, Fly simulator) as a process of their own, for the
// throughput bench: the app under test then talks to them over HTTP, as to QStash and Fly,
// and its process does only its own work. Env: STAND_INS_DATABASE_URL, APP_ORIGIN,
// FLY_TIME_SCALE. Prints `listening <port>` on stdout once it serves.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { connect } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { createFlySimulator } from '../../src/dev-servers/fly-simulator/index.ts';
import { createQStashEmulator } from '../../src/dev-servers/qstash-emulator/index.ts';
import { jsonLogger } from '../../src/lib/log.ts';
import { freePort } from '../helpers/process.ts';

const url = process.env.STAND_INS_DATABASE_URL ?? '';
const database = await connect({ kind: 'postgres', url }, { maxConnections: 20 });
// The stand-ins' own stream only: this database holds their state, not the app's.
await migrate(database, 'dev');
const log = jsonLogger({ level: 'warn', write: (line) => process.stderr.write(`${line}\n`) });
const qstash = createQStashEmulator({
  db: database.db,
  log,
  origins: [process.env.APP_ORIGIN ?? ''],
});
const fly = createFlySimulator({
  db: database.db,
  token: 'fleetwarden-local-simulator',
  timeScale: Number(process.env.FLY_TIME_SCALE ?? '0.001'),
});
const app = new Hono();
app.mount('/__dev/qstash', (request) => qstash.fetch(request));
app.mount('/__dev/fly', (request) => fly.fetch(request));
const port = await freePort();
const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' });
qstash.engine.start();
console.log(`listening ${port}`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.on(signal, async () => {
    await qstash.engine.stop();
    server.close();
    await database.close();
    process.exit(0);
  });
