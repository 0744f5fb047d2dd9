/**
 * Previous/next links for keyset pages. `href(cursor)` builds the link keeping the current
 * filters; htmx attributes make the table swap in place when JavaScript is on.
 */
export function Pager({
  prev,
  next,
  href,
  target,
  swap,
  summary,
}: {
  prev: string | null;
  next: string | null;
  href: (cursor: string) => string;
  target?: string;
  /** htmx swap style when the fragment carries the target element itself (`outerHTML`). */
  swap?: 'outerHTML';
  summary?: string;
}) {
  const hx = (url: string) =>
    target
      ? {
          'hx-get': url,
          'hx-target': target,
          'hx-push-url': 'true',
          ...(swap ? { 'hx-swap': swap } : {}),
        }
      : {};
  return (
    <nav class="pager" aria-label="Pagination">
      <span class="muted small">{summary}</span>
      <span>
        {prev ? (
          <a class="button secondary" href={href(prev)} rel="prev" {...hx(href(prev))}>
            ← Previous
          </a>
        ) : (
          <button type="button" class="secondary" disabled>
            ← Previous
          </button>
        )}{' '}
        {next ? (
          <a class="button secondary" href={href(next)} rel="next" {...hx(href(next))}>
            Next →
          </a>
        ) : (
          <button type="button" class="secondary" disabled>
            Next →
          </button>
        )}
      </span>
    </nav>
  );
}
