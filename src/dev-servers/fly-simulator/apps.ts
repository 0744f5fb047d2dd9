// Apps (docs: machines/api/apps-resource): just enough for machines and volumes to belong to.
import { eq } from 'drizzle-orm';
import { Hono } from 'hono';
import { simFlyApps } from '../../../db/dev-schema/index.ts';
import type { SimContext } from './context.ts';
import type { EndpointGuard } from './faults.ts';
import { appId } from './ids.ts';
import { appNotFound, invalid, jsonBody, SimError } from './respond.ts';

type AppRow = typeof simFlyApps.$inferSelect;

const appJson = (a: AppRow) => ({
  id: a.id,
  name: a.name,
  organization: { name: a.orgSlug, slug: a.orgSlug },
  status: a.status,
});

/** The app, or 404 `app not found` (the text flyctl matches). */
export async function requireApp(ctx: SimContext, name: string): Promise<AppRow> {
  const [row] = await ctx.db.select().from(simFlyApps).where(eq(simFlyApps.name, name));
  if (!row) throw appNotFound();
  return row;
}

/** Creates an app; false when the name is taken. */
async function insertApp(ctx: SimContext, name: string, orgSlug = 'personal'): Promise<boolean> {
  const rows = await ctx.db
    .insert(simFlyApps)
    .values({ name, id: appId(), orgSlug, createdAt: ctx.now() })
    .onConflictDoNothing()
    .returning();
  return rows.length > 0;
}

/** `POST /v1/apps` (201; 422 `name_taken`) and `GET /v1/apps/{app}`. */
export function appRoutes(ctx: SimContext, guard: EndpointGuard) {
  const app = new Hono();
  app.post('/v1/apps', guard('create_app'), async (c) => {
    const body = await jsonBody(c);
    const name = body.app_name;
    if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9-]{1,62}$/.test(name))
      throw invalid('app_name must be 2–63 lower-case letters, digits or dashes');
    const org = typeof body.org_slug === 'string' && body.org_slug ? body.org_slug : 'personal';
    if (!(await insertApp(ctx, name, org)))
      throw new SimError(422, 'Validation failed: Name has already been taken', {
        status: 'name_taken',
      });
    return c.json(appJson(await requireApp(ctx, name)), 201);
  });
  app.get('/v1/apps/:app', guard('get_app', 'app'), async (c) =>
    c.json(appJson(await requireApp(ctx, c.req.param('app')))),
  );
  return app;
}
