import type { Child } from 'hono/jsx';
import { ConfirmDialog } from './components/confirm.tsx';
import { Flash, type FlashMessage } from './components/flash.tsx';
import { zoneLabel } from './format.ts';
import { plural } from './plural.ts';

export type AssetUrls = { css: string; js: string; htmx: string };

export type NavKey =
  | 'overview'
  | 'instances'
  | 'scheduler'
  | 'outbox'
  | 'recoveries'
  | 'cli-runs'
  | 'agents'
  | 'deliveries'
  | 'audit'
  | 'settings';

const NAV: { key: NavKey; href: string; label: string }[] = [
  { key: 'overview', href: '/admin', label: 'Overview' },
  { key: 'instances', href: '/admin/instances', label: 'Instances' },
  { key: 'scheduler', href: '/admin/scheduler', label: 'Scheduler' },
  { key: 'recoveries', href: '/admin/recoveries', label: 'Recoveries' },
  { key: 'cli-runs', href: '/admin/cli-runs', label: 'CLI runs' },
  { key: 'agents', href: '/admin/agents', label: 'Agents' },
  { key: 'deliveries', href: '/admin/deliveries', label: 'Deliveries' },
  { key: 'outbox', href: '/admin/outbox', label: 'Outbox' },
  { key: 'audit', href: '/admin/audit', label: 'Audit log' },
  { key: 'settings', href: '/admin/settings', label: 'Settings' },
];

// htmx without eval, inline styles or script tags, so the CSP can forbid all three;
// error responses are swapped too (our error fragments retarget themselves to #flash).
const HTMX_CONFIG = JSON.stringify({
  includeIndicatorStyles: false,
  allowEval: false,
  allowScriptTags: false,
  responseHandling: [
    { code: '204', swap: false },
    { code: '[23]..', swap: true },
    { code: '[45]..', swap: true, error: true },
  ],
});

/**
 * How many scheduled actions run now, beside "Scheduler"; re-read every 15 s (empty at 0).
 * Also the answer of GET /admin/overview/running, which replaces it.
 */
export function RunningCount({ running }: { running: number }) {
  return (
    <span
      id="nav-running"
      class={running ? 'count' : 'count-none'}
      hx-get="/admin/overview/running"
      hx-trigger="every 15s"
      hx-swap="outerHTML"
      {...(running
        ? {
            title: plural(running, {
              one: '# scheduled action running now',
              other: '# scheduled actions running now',
            }),
          }
        : {})}
    >
      {running ? String(running) : ''}
    </span>
  );
}

export function Head({ title, assets }: { title: string; assets: AssetUrls }) {
  return (
    <head>
      <meta charset="utf-8" />
      <meta name="viewport" content="width=device-width, initial-scale=1" />
      <meta name="htmx-config" content={HTMX_CONFIG} />
      <title>{title} · fleetwarden</title>
      <link rel="icon" href="data:," />
      <link rel="stylesheet" href={assets.css} />
      <script src={assets.htmx} defer />
      <script src={assets.js} defer />
    </head>
  );
}

/** The console frame: navigation, the signed-in admin, the zone times are shown in. */
export function Layout({
  title,
  active,
  assets,
  admin,
  zone,
  zoneSource,
  flash,
  minimal,
  running = 0,
  children,
}: {
  title: string;
  active?: NavKey;
  assets: AssetUrls;
  admin: { email: string };
  zone: string;
  zoneSource: 'admin' | 'browser';
  flash?: FlashMessage | null;
  /** Only the brand and sign-out (an admin who must choose a password first can go nowhere else). */
  minimal?: boolean;
  /** Scheduled actions running now: a count beside "Scheduler". */
  running?: number;
  children: Child;
}) {
  return (
    <html lang="en">
      <Head title={title} assets={assets} />
      <body data-zone={zone} data-zone-source={zoneSource}>
        <div class="shell">
          <nav class="nav" aria-label="Main">
            <a class="brand" href="/admin">
              fleetwarden
            </a>
            {(minimal ? [] : NAV).map((item) => (
              <a href={item.href} aria-current={item.key === active ? 'page' : undefined}>
                {item.label}
                {item.key === 'scheduler' ? <RunningCount running={running} /> : null}
              </a>
            ))}
            <div class="who">
              <div>{admin.email}</div>
              <div class="muted" title="Times on these pages are shown in this zone">
                {zoneLabel(zone)}
              </div>
              <form method="post" action="/admin/logout">
                <button type="submit">Sign out</button>
              </form>
            </div>
          </nav>
          <ConfirmDialog />
          <main>
            <div id="flash" aria-live="polite">
              {flash ? <Flash tone={flash.tone}>{flash.text}</Flash> : null}
            </div>
            {children}
          </main>
        </div>
      </body>
    </html>
  );
}
