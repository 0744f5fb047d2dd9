/**
 * Confirmation before a form is sent: a styled `<dialog>` (opened by app.js) instead of the
 * browser's `confirm()`. It names what will happen and to how many; the button that goes
 * ahead says it again with the count ("Cancel 12 targets").
 *
 * `{n}` in any text is replaced, when the dialog opens, by the number of ticked checkboxes
 * named `count`; with `none`, nothing ticked shows that message instead of the dialog.
 */
export type ConfirmSpec = {
  /** The question, e.g. "Cancel this action?". */
  title: string;
  /** What follows from it, in a sentence or two. */
  detail?: string;
  /** The button that goes ahead, e.g. "Cancel 12 targets". */
  ok: string;
  tone?: 'danger' | 'primary';
  count?: string;
  none?: string;
};

/** Attributes for a `<form>` (or a submit button) that asks first. */
export function confirmAttrs(c: ConfirmSpec): Record<string, string> {
  return {
    'data-confirm': c.title,
    'data-confirm-ok': c.ok,
    'data-confirm-tone': c.tone ?? 'danger',
    ...(c.detail ? { 'data-confirm-detail': c.detail } : {}),
    ...(c.count ? { 'data-confirm-count': c.count } : {}),
    ...(c.none ? { 'data-confirm-none': c.none } : {}),
  };
}

/** The one dialog every confirmation uses; app.js fills it in and opens it. */
export function ConfirmDialog() {
  return (
    <dialog id="confirm-dialog" class="confirm" aria-labelledby="confirm-title">
      <form method="dialog">
        <h2 id="confirm-title">Go ahead?</h2>
        <p id="confirm-detail" />
        <div class="dialog-buttons">
          <button type="submit" value="cancel" class="secondary" id="confirm-cancel" autofocus>
            Go back
          </button>
          <button type="submit" value="ok" id="confirm-ok" />
        </div>
      </form>
    </dialog>
  );
}
