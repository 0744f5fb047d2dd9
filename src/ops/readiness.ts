import { ping } from '../../db/client.ts';
import { migrationStatus } from '../../db/migrations.ts';
import type { Deps } from '../deps.ts';

export type Readiness = {
  ready: boolean;
  database: 'ok' | 'unreachable';
  migrations: { expected: number; applied: number; current: boolean } | null;
};

/** Ready means: the database answers and every migration of this build is applied. */
export async function checkReadiness(deps: Pick<Deps, 'db'>): Promise<Readiness> {
  const reachable = await ping(deps.db);
  const migrations = reachable ? await migrationStatus(deps.db) : null;
  return {
    ready: reachable && migrations?.current === true,
    database: reachable ? 'ok' : 'unreachable',
    migrations,
  };
}
