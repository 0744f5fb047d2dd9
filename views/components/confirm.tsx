/**
 * Confirmation before a form is sent: a styled `<dialog>` (opened by app.js) instead of the
 * browser's `confirm()`. It names what will happen and to how many; the button that goes
 * ahead says it again with the count ("Cancel 12 targets").
 *
 * `{n}` in any text is replaced, when the dialog opens, by the number of ticked checkboxes
 * named `count`, or by the value of the `<data>` element `countFrom` selects (a count a poll
 * keeps current, e.g. an action's pending targets); with `none`, a count of zero shows that
 * message instead of the dialog.
 */
/** A text, or its two English plural forms when it counts `{n}` (picked with Intl.PluralRules). */
export type ConfirmText = string | { one: string; other: string };

export type ConfirmSpec = {
  /** The question, e.g. "Cancel this action?". */
  title: ConfirmText;
  /** What follows from it, in a sentence or two. */
  detail?: ConfirmText;
  /** The button that goes ahead, e.g. "Cancel 12 targets". */
  ok: ConfirmText;
  tone?: 'danger' | 'primary';
  count?: string;
  countFrom?: string;
  none?: string;
};

/** Attributes for a `<form>` (or a submit button) that asks first. */
export function confirmAttrs(c: ConfirmSpec): Record<string, string> {
  const text = (name: string, t: ConfirmText | undefined): Record<string, string> =>
    t === undefined
      ? {}
      : typeof t === 'string'
        ? { [name]: t }
        : { [name]: t.other, [`${name}-one`]: t.one };
  return {
    ...text('data-confirm', c.title),
    ...text('data-confirm-ok', c.ok),
    'data-confirm-tone': c.tone ?? 'danger',
    ...text('data-confirm-detail', c.detail),
    ...(c.count ? { 'data-confirm-count': c.count } : {}),
    ...(c.countFrom ? { 'data-confirm-count-from': c.countFrom } : {}),
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
