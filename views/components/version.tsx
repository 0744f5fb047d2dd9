/**
 * Image versions as their catalog label ("1.5.0"), the full image tag on hover. `labels`
 * maps tags to labels; a tag the catalog does not know is shown as its part after `:`.
 */
export type VersionLabels = Record<string, string>;

export function labelOf(tag: string, labels: VersionLabels = {}): string {
  return labels[tag] ?? tag.slice(tag.lastIndexOf(':') + 1);
}

export function Version({ tag, labels }: { tag: string | null; labels?: VersionLabels }) {
  if (!tag) return <span class="muted">—</span>;
  return (
    <code class="version" title={tag}>
      {labelOf(tag, labels)}
    </code>
  );
}

/**
 * "1.4.2 → 1.5.0" for a change, or the one version when nothing changes (a restart keeps
 * its version, so "1.5.0 → 1.5.0" would only say the same thing twice).
 */
export function VersionChange(p: {
  from: string | null;
  to: string | null;
  labels?: VersionLabels;
}) {
  if (!p.to || p.to === p.from) return <Version tag={p.from} labels={p.labels} />;
  return (
    <>
      <Version tag={p.from} labels={p.labels} /> → <Version tag={p.to} labels={p.labels} />
    </>
  );
}
