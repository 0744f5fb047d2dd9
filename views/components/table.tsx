import type { Child } from 'hono/jsx';

/**
 * A list table in its scrolling wrapper: one header cell per column, then the rows.
 * `headers` are plain labels or whole `<th>` elements (e.g. sort links).
 */
export function Table({ headers, children }: { headers: Child[]; children: Child }) {
  return (
    <div class="table-wrap">
      <table>
        <thead>
          <tr>{headers.map((h) => (typeof h === 'string' ? <th>{h}</th> : h))}</tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}
