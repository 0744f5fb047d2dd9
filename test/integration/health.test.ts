import { sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { createTestApp } from '../helpers/app.ts';

describe('health', async () => {
  const t = await createTestApp();

  it('/healthz answers 200 with a JSON body, without credentials', async () => {
    const res = await t.app.request('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ status: 'ok' });
  });

  it('/readyz is 200 when the database answers and migrations are current', async () => {
    const res = await t.app.request('/readyz');
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toMatchObject({ status: 'ready', database: 'ok', migrations: { current: true } });
    expect(body.migrations.applied).toBe(body.migrations.expected);
  });

  it('/readyz is 503 when a migration of this build is missing', async () => {
    await t.db.db.execute(
      sql`update drizzle.__drizzle_migrations set created_at = created_at - 1 where created_at = (select max(created_at) from drizzle.__drizzle_migrations)`,
    );
    const res = await t.app.request('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ status: 'not_ready', migrations: { current: false } });
  });
});
