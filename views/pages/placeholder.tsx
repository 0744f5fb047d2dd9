import { EmptyState } from '../components/empty.tsx';

/** A console section whose feature has not shipped yet: says so plainly. */
export function PlaceholderPage({ title, description }: { title: string; description: string }) {
  return (
    <>
      <h1>{title}</h1>
      <div class="panel">
        <EmptyState title="Not available yet">
          <p>{description}</p>
        </EmptyState>
      </div>
    </>
  );
}
