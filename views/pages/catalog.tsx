import { StatusBadge } from '../components/badge.tsx';
import { confirmAttrs } from '../components/confirm.tsx';
import { EmptyState } from '../components/empty.tsx';
import { Time } from '../components/time.tsx';

export type CatalogRow = {
  imageTag: string;
  versionLabel: string;
  variant: string;
  status: 'available' | 'disabled';
  isLatest: boolean;
  publishedAt: Date;
};

/** The image catalog: versions instances may run; one latest per variant. */
export function CatalogSection({ images, zone }: { images: CatalogRow[]; zone: string }) {
  return (
    <section class="panel" id="catalog">
      <h2>Image catalog</h2>
      <p class="muted small">
        Versions instances may be moved to. A disabled version is never a target; one version per
        variant is the latest.
      </p>
      {images.length === 0 ? (
        <EmptyState title="No images yet">
          <p>Add the image tags your instances run.</p>
        </EmptyState>
      ) : (
        <div class="table-wrap">
          <table>
            <thead>
              <tr>
                <th>Image</th>
                <th>Version</th>
                <th>Variant</th>
                <th>Published</th>
                <th>Status</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {images.map((img) => {
                const tag = encodeURIComponent(img.imageTag);
                return (
                  <tr>
                    <td>
                      <code>{img.imageTag}</code>
                    </td>
                    <td>{img.versionLabel}</td>
                    <td>{img.variant}</td>
                    <td>
                      <Time at={img.publishedAt} zone={zone} />
                    </td>
                    <td>
                      <StatusBadge status={img.status} />{' '}
                      {img.isLatest ? <span class="badge badge-info">latest</span> : null}
                    </td>
                    <td>
                      {img.status === 'available' && !img.isLatest ? (
                        <form
                          class="inline"
                          method="post"
                          action={`/admin/settings/images/latest?tag=${tag}`}
                        >
                          <button type="submit" class="secondary">
                            Make latest
                          </button>
                        </form>
                      ) : null}{' '}
                      <form
                        class="inline"
                        method="post"
                        action={`/admin/settings/images/${img.status === 'available' ? 'disable' : 'enable'}?tag=${tag}`}
                        {...(img.status === 'available'
                          ? {
                              'hx-boost': 'true',
                              ...confirmAttrs({
                                title: `Disable ${img.versionLabel}?`,
                                detail: `${img.imageTag} stops being offered as a target; instances on it keep running.`,
                                ok: 'Disable 1 version',
                              }),
                            }
                          : {})}
                      >
                        <button
                          type="submit"
                          class={img.status === 'available' ? 'danger' : 'secondary'}
                        >
                          {img.status === 'available' ? 'Disable' : 'Enable'}
                        </button>
                      </form>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <form class="toolbar" method="post" action="/admin/settings/images">
        <label>
          Image tag
          <input
            type="text"
            name="imageTag"
            required
            maxlength={300}
            placeholder="registry.fly.io/agent:1.7.0"
            size={36}
          />
        </label>
        <label>
          Version label
          <input type="text" name="versionLabel" required maxlength={50} placeholder="1.7.0" />
        </label>
        <label>
          Variant
          <input type="text" name="variant" maxlength={50} value="default" />
        </label>
        <label>
          <span>
            <input type="checkbox" name="latest" value="true" /> Latest
          </span>
        </label>
        <button type="submit">Add image</button>
      </form>
    </section>
  );
}
