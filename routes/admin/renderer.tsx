import type { Context } from 'hono';
import { jsxRenderer } from 'hono/jsx-renderer';
import { Layout, type NavKey } from '../../views/layout.tsx';
import type { AppEnv } from '../env.ts';

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
  ({ children, title, active }, c) => {
    const ctx = c as unknown as Context<AppEnv>;
    const admin = ctx.get('admin');
    return (
      <Layout
        title={title}
        active={active}
        assets={ctx.get('assets').urls}
        admin={{ email: admin?.email ?? '' }}
        zone={ctx.get('timeZone') ?? 'UTC'}
        zoneSource={admin?.timeZone ? 'admin' : 'browser'}
      >
        {children}
      </Layout>
    );
  },
  { docType: true },
);
