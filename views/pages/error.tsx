/** A full error page for console routes (no navigation: the viewer may not be signed in). */
export function ErrorPage({
  status,
  title,
  detail,
  requestId,
  cssUrl,
}: {
  status: number;
  title: string;
  detail: string;
  requestId: string | null;
  cssUrl?: string | null;
}) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{`${title} · fleetwarden`}</title>
        <link rel="icon" href="data:," />
        {cssUrl ? <link rel="stylesheet" href={cssUrl} /> : null}
      </head>
      <body>
        <main class="login">
          <p class="muted">Error {status}</p>
          <h1>{title}</h1>
          <p>{detail}</p>
          {requestId ? (
            <p class="muted small">
              Request id: <code>{requestId}</code>
            </p>
          ) : null}
          <p>
            <a href="/admin">Back to the console</a>
          </p>
        </main>
      </body>
    </html>
  );
}
