import type { Child } from 'hono/jsx';

/** What a list shows when it has no rows: say why, and what to do next. */
export function EmptyState({ title, children }: { title: string; children?: Child }) {
  return (
    <div class="empty">
      <strong>{title}</strong>
      {children}
    </div>
  );
}
