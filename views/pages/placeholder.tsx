import { EmptyState } from '../components/empty.tsx';

/** A console section whose feature has not shipped yet: says so, and links to what exists. */
export function PlaceholderPage({
  title,
  description,
  meanwhile,
}: {
  title: string;
  description: string;
  meanwhile: { href: string; label: string }[];
}) {
  return (
    <>
      <h1>{title}</h1>
      <div class="panel">
        <EmptyState title="Not available yet">
          <p>{description}</p>
          <p class="toolbar meanwhile">
            Meanwhile:{' '}
            {meanwhile.map((m) => (
              <a class="button secondary" href={m.href}>
                {m.label}
              </a>
            ))}
          </p>
        </EmptyState>
      </div>
    </>
  );
}
