import type { Context } from 'hono';
import { jsxRenderer } from 'hono/jsx-renderer';
import { runningActionCount } from '../../src/overview/queries.ts';
import { Layout, type NavKey } from '../../views/layout.tsx';
import type { AppEnv } from '../env.ts';
import { takeFlash } from './flash.ts';

declare module 'hono' {
  interface ContextRenderer {
    // biome-ignore lint/style/useShorthandFunctionType: augments hono's interface
    (
      content: string | Promise<string>,
      props: { title: string; active?: NavKey },
    ): Response | Promise<Response>;
  }
}

/** Wraps console pages in the layout (`c.render(<Page/>, { title, active })`). */
export const renderer = jsxRenderer(
  async ({ children, title, active }, c) => {
    const ctx = c as unknown as Context<AppEnv>;
    const admin = ctx.get('admin');
    // A full page shows (and so consumes) the flash a POST-redirect-GET left for it.
    const [flash, running] = await Promise.all([
      takeFlash(ctx),
      admin && !admin.mustChangePassword ? runningActionCount(ctx.get('deps').db) : 0,
    ]);
    return (
      <Layout
        title={title}
        active={active}
        assets={ctx.get('assets').urls}
        admin={{ email: admin?.email ?? '' }}
        zone={ctx.get('timeZone') ?? 'UTC'}
        zoneSource={admin?.timeZone ? 'admin' : 'browser'}
        flash={flash}
        minimal={admin?.mustChangePassword ?? false}
        running={running}
      >
        {children}
      </Layout>
    );
  },
  { docType: true },
);
