import { inject } from 'vitest';
import { connect, type Database } from '../../db/client.ts';
import { adminQuery, withDatabase } from './postgres.ts';

export type TestDatabase = Database & { url: string; name: string; drop(): Promise<void> };

let counter = 0;

/**
 * A fresh, migrated database for one test file (a clone of the template). `drop()` closes
 * the pool and removes the database.
 */
export async function createTestDatabase(
  options: { maxConnections?: number } = {},
): Promise<TestDatabase> {
  const adminUrl = inject('pgAdminUrl');
  const template = inject('pgTemplate');
  const name = `fw_test_${process.pid}_${Date.now()}_${counter++}`;
  await adminQuery(adminUrl, [`create database ${name} template ${template}`]);
  const url = withDatabase(adminUrl, name);
  const database = await connect(
    { kind: 'postgres', url },
    { maxConnections: options.maxConnections ?? 10 },
  );
  return {
    ...database,
    url,
    name,
    async drop() {
      await database.close();
      await adminQuery(adminUrl, [`drop database if exists ${name} with (force)`]);
    },
  };
}
