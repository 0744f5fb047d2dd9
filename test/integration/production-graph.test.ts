import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { connect, queryRows } from '../../db/client.ts';
import { migrate } from '../../db/migrate.ts';
import { DENO, denoGraph, runRecorded } from '../helpers/module-graph.ts';
import { adminQuery, withDatabase } from '../helpers/postgres.ts';
import { freePort, productionEnv, waitForOutput } from '../helpers/process.ts';

// A production build carries none of the local stand-ins: no module of src/dev-servers or
// db/dev-schema is loaded by a production start on Node, nor imported statically by any
// entry (Deno Deploy and Vercel bundle from main.ts and server.ts), and the production
// migrations create none of their tables (docs/adr/0006).
const STAND_INS = ['src/dev-servers/', 'db/dev-schema/'];
const standIns = (modules: string[]) =>
  modules.filter((m) => STAND_INS.some((s) => m.startsWith(s)));

const record = await mkdtemp(join(tmpdir(), 'fleetwarden-modules-'));
afterAll(() => rm(record, { recursive: true, force: true }));

/** An empty database on the test server; `migrated`: with the production stream applied. */
async function productionDatabase(label: string, migrated: boolean): Promise<string> {
  const adminUrl = inject('pgAdminUrl');
  const name = `fw_${label}_${process.pid}_${Date.now()}`;
  await adminQuery(adminUrl, [`create database ${name}`]);
  afterAll(() => adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]));
  const url = withDatabase(adminUrl, name);
  if (migrated) {
    const database = await connect({ kind: 'postgres', url }, { maxConnections: 1 });
    await migrate(database).finally(() => database.close());
  }
  return url;
}

describe('a production start on Node (node.ts, FLEETWARDEN_MODE=production)', async () => {
  const url = await productionDatabase('prod_node', false);
  const port = await freePort();
  const server = runRecorded(['node.ts'], productionEnv(url, port), join(record, 'node.txt'));
  afterAll(() => server.stop());

  it('serves, having loaded no module of the stand-ins', async () => {
    await waitForOutput(server, /Listening on/);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/readyz`)).status).toBe(200);
    expect((await fetch(`${base}/admin/login`)).status).toBe(200);
    // No stand-in is mounted.
    expect((await fetch(`${base}/__dev/fly/v1/apps/x`)).status).toBe(404);
    const modules = await server.modules();
    expect(modules).toEqual(
      expect.arrayContaining(['src/boot.ts', 'src/app.ts', 'src/adapters/fly/setup.ts']),
    );
    expect(standIns(modules)).toEqual([]);
  });

  it('migrated its fresh database without any sim_* table', async () => {
    const database = await connect({ kind: 'postgres', url }, { maxConnections: 1 });
    try {
      const rows = await queryRows<{ name: string }>(
        database.db,
        sql`select table_name as name from information_schema.tables
            where table_name like 'sim\_%' or table_name = '__drizzle_dev_migrations'`,
      );
      expect(rows).toEqual([]);
    } finally {
      await database.close();
    }
  });
});

describe('the Vercel entry (server.ts) in production', async () => {
  const url = await productionDatabase('prod_vercel', true);

  it('boots and answers, having loaded no module of the stand-ins', async () => {
    // Vercel imports the module and calls its default export's fetch; so does this.
    const script = [
      "const { default: app } = await import('./server.ts');",
      "const res = await app.request('/readyz');",
      "console.log('readyz', res.status);",
      'process.exit(0);',
    ].join('\n');
    const child = runRecorded(
      ['--input-type=module', '--eval', script],
      productionEnv(url),
      join(record, 'vercel.txt'),
    );
    expect(await child.exited, child.output()).toBe(0);
    expect(child.output()).toContain('readyz 200');
    const modules = await child.modules();
    expect(modules).toEqual(expect.arrayContaining(['server.ts', 'src/boot.ts']));
    expect(standIns(modules)).toEqual([]);
  });
});

describe.skipIf(!existsSync(DENO))('the static module graphs (deno info)', () => {
  it('main.ts (Deno, Deno Deploy) reaches the stand-ins only through its dynamic import', () => {
    const graph = denoGraph('main.ts');
    expect(graph.staticModules).toEqual(expect.arrayContaining(['host.ts', 'src/boot.ts']));
    expect(standIns(graph.staticModules)).toEqual([]);
    expect(graph.edgesInto('src/dev-servers/')).toEqual([
      { from: 'main.ts', to: 'src/dev-servers/index.ts', dynamic: true },
    ]);
  });

  it('node.ts reaches the stand-ins only through its dynamic import', () => {
    const graph = denoGraph('node.ts');
    expect(standIns(graph.staticModules)).toEqual([]);
    expect(graph.edgesInto('src/dev-servers/')).toEqual([
      { from: 'node.ts', to: 'src/dev-servers/index.ts', dynamic: true },
    ]);
  });

  it('server.ts (Vercel) does not reference the stand-ins at all', () => {
    const graph = denoGraph('server.ts');
    expect(graph.staticModules).toEqual(expect.arrayContaining(['host.ts', 'src/boot.ts']));
    expect(standIns(graph.allModules)).toEqual([]);
  });
});
