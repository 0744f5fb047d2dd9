import type { TestProject } from 'vitest/node';
import { connect } from '../../db/client.ts';
import { migrateWithStandIns } from '../../db/migrate.ts';
import { adminQuery, startTestServer, withDatabase } from './postgres.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAdminUrl: string;
    pgTemplate: string;
  }
}

/**
 * Once per run: a PostgreSQL server and a template database with every migration applied:
 * the app's (db/migrations) and the local stand-ins' (db/dev-migrations), as embedded mode has.
 * Each test file clones the template (CREATE DATABASE … TEMPLATE), which takes tens of
 * milliseconds instead of re-running migrations.
 */
export default async function setup(project: TestProject) {
  const server = await startTestServer();
  const template = `fw_template_${process.pid}_${Date.now()}`;
  await adminQuery(server.adminUrl, [`create database ${template}`]);
  const database = await connect(
    { kind: 'postgres', url: withDatabase(server.adminUrl, template) },
    { maxConnections: 1 },
  );
  try {
    await migrateWithStandIns(database);
  } finally {
    await database.close();
  }
  project.provide('pgAdminUrl', server.adminUrl);
  project.provide('pgTemplate', template);
  return async () => {
    await adminQuery(server.adminUrl, [`drop database if exists ${template} with (force)`]).catch(
      () => {},
    );
    await server.stop();
  };
}
