import { Hono } from 'hono';
import type { OwnAssetRole, StaticAsset } from '../src/assets.ts';
import { sha256Hex } from '../src/lib/crypto.ts';
import type { AssetUrls } from '../views/layout.tsx';
import type { AppEnv } from './env.ts';

export type AssetManifest = {
  files: Map<string, StaticAsset>;
  /** URLs the pages link to. */
  urls: AssetUrls & { apiDocsJs: string; swaggerUiJs: string; swaggerUiCss: string };
};

/**
 * Our own files get a content fingerprint in their name (`app-<sha256:10>.css`); vendor
 * files carry their package name and exact version in the path. Either way a URL never
 * changes content, so both are served `immutable` for a year.
 */
export async function buildAssetManifest(assets: StaticAsset[]): Promise<AssetManifest> {
  const vendor = assets.filter((a) => !isOwn(a));
  const own = async (role: OwnAssetRole): Promise<StaticAsset> => {
    const file = assets.find((a) => a.role === role);
    if (!file) throw new Error(`static assets: ${role} is missing (views/assets/)`);
    const body = typeof file.body === 'string' ? file.body : new TextDecoder().decode(file.body);
    const hash = (await sha256Hex(body)).slice(0, 10);
    return { ...file, path: file.path.replace(/\.(\w+)$/, `-${hash}.$1`) };
  };
  const [css, js, apiDocs] = await Promise.all([own('app-css'), own('app-js'), own('api-docs-js')]);
  const files = new Map<string, StaticAsset>();
  for (const asset of [css, js, apiDocs, ...vendor]) files.set(asset.path, asset);
  const byRole = (role: StaticAsset['role']) => {
    const found = vendor.find((a) => a.role === role);
    return found ? `/assets/${found.path}` : `/assets/missing/${role}`;
  };
  return {
    files,
    urls: {
      css: `/assets/${css.path}`,
      js: `/assets/${js.path}`,
      htmx: byRole('htmx'),
      apiDocsJs: `/assets/${apiDocs.path}`,
      swaggerUiJs: byRole('swagger-ui-js'),
      swaggerUiCss: byRole('swagger-ui-css'),
    },
  };
}

const OWN: ReadonlySet<StaticAsset['role']> = new Set<OwnAssetRole>([
  'app-js',
  'app-css',
  'api-docs-js',
]);
const isOwn = (a: StaticAsset) => OWN.has(a.role);

/** `GET /assets/*`: public, immutable files from the manifest; 404 for anything else. */
export function assetRoutes(manifest: Promise<AssetManifest>) {
  return new Hono<AppEnv>().get('/*', async (c) => {
    const path = c.req.path.replace(/^\/assets\//, '');
    const asset = (await manifest).files.get(path);
    if (!asset) return c.notFound();
    return c.body(asset.body, 200, {
      'Content-Type': asset.contentType,
      'Cache-Control': 'public, max-age=31536000, immutable',
    });
  });
}
