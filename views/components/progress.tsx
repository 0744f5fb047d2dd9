/** A progress bar without inline styles (the CSP forbids them): the native `<progress>`. */
export function Progress({ done, total, label }: { done: number; total: number; label: string }) {
  return (
    <progress class="bar" value={done} max={Math.max(total, 1)} aria-label={label}>
      {done} of {total}
    </progress>
  );
}
