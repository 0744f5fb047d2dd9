import { Hono } from 'hono';
import {
  fleetCounts,
  liveActions,
  recentFailures,
  runningActionCount,
} from '../../src/overview/queries.ts';
import { RunningCount } from '../../views/layout.tsx';
import { LiveActions, OverviewPage } from '../../views/pages/overview.tsx';
import { type AppEnv, zoneOf } from '../env.ts';

/** Console: the Overview at /admin, and its live actions fragment (polled while any is live). */
export function overviewRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', async (c) => {
    const { db } = c.get('deps');
    const [counts, live, failures] = await Promise.all([
      fleetCounts(db),
      liveActions(db),
      recentFailures(db),
    ]);
    return c.render(
      <OverviewPage counts={counts} live={live} failures={failures} zone={zoneOf(c)} />,
      { title: 'Overview', active: 'overview' },
    );
  });

  app.get('/overview/live', async (c) =>
    c.html(<LiveActions rows={await liveActions(c.get('deps').db)} zone={zoneOf(c)} />),
  );

  app.get('/overview/running', async (c) =>
    c.html(<RunningCount running={await runningActionCount(c.get('deps').db)} />),
  );

  return app;
}
