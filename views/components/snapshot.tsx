import { Time } from './time.tsx';

/**
 * Says a list is a snapshot — when it was read, and a link that reads it again with the same
 * filters — for pages that do not update themselves while you look.
 */
export function SnapshotNote({
  at,
  zone,
  href,
  what,
}: {
  at: Date;
  zone: string;
  href: string;
  what: string;
}) {
  return (
    <p class="muted small snapshot">
      {what}, as read at <Time at={at} zone={zone} />. <a href={href}>Reload</a> for newer.
    </p>
  );
}
