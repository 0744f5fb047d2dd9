import { type AssetUrls, Head } from '../layout.tsx';

export type ErrorView = {
  status: number;
  title: string;
  detail: string;
  requestId: string | null;
};

/** What went wrong, the request id to quote, and the ways on (inside the console frame). */
export function ErrorContent(p: ErrorView & { signedIn: boolean }) {
  return (
    <section class="panel error-page" data-status={p.status}>
      <p class="muted">Error {p.status}</p>
      <h1>{p.title}</h1>
      <p>{p.detail}</p>
      {p.requestId ? (
        <p class="muted small">
          Request id: <code>{p.requestId}</code>
        </p>
      ) : null}
      <p class="toolbar">
        {p.signedIn ? (
          <>
            <a class="button" href="/admin">
              Overview
            </a>
            <a class="button secondary" href="/admin/instances">
              Instances
            </a>
            <a class="button secondary" href="/admin/scheduler">
              Scheduler
            </a>
          </>
        ) : (
          <a class="button" href="/admin/login">
            Sign in
          </a>
        )}
      </p>
    </section>
  );
}

/**
 * A full error page for a viewer who is not signed in: the stylesheet, no navigation.
 * `assets` is null only for an error before the asset manifest was read (a bare page then).
 */
export function ErrorPage(p: ErrorView & { assets: AssetUrls | null }) {
  return (
    <html lang="en">
      {p.assets ? (
        <Head title={p.title} assets={p.assets} />
      ) : (
        <head>
          <meta charset="utf-8" />
          <title>{`${p.title} · fleetwarden`}</title>
        </head>
      )}
      <body>
        <main class="login">
          <ErrorContent {...p} signedIn={false} />
        </main>
      </body>
    </html>
  );
}
