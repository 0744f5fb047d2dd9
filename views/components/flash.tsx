import type { Child } from 'hono/jsx';

export type FlashTone = 'ok' | 'warn' | 'error';

/** A one-shot message for the top of the next page (see routes/admin/flash.ts). */
export type FlashMessage = { tone: FlashTone; text: string };

/**
 * A message at the top of a page or panel. Errors are announced at once (`role=alert`);
 * the rest politely (`role=status`), per WAI-ARIA's live-region roles.
 */
export function Flash({ tone, children }: { tone: FlashTone; children?: Child }) {
  return (
    <div class={`flash flash-${tone}`} role={tone === 'error' ? 'alert' : 'status'}>
      {children}
    </div>
  );
}
