import { Hono } from 'hono';
import type { StaticAsset } from '../src/assets.ts';
import { sha256Hex } from '../src/lib/crypto.ts';
import { APP_CSS } from '../views/assets/app-css.ts';
import { API_DOCS_JS, APP_JS } from '../views/assets/app-js.ts';
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
export async function buildAssetManifest(vendor: StaticAsset[]): Promise<AssetManifest> {
  const own = async (
    name: string,
    ext: string,
    body: string,
    contentType: string,
  ): Promise<StaticAsset> => ({
    path: `${name}-${(await sha256Hex(body)).slice(0, 10)}.${ext}`,
    contentType,
    body,
  });
  const [css, js, apiDocs] = await Promise.all([
    own('app', 'css', APP_CSS, 'text/css; charset=utf-8'),
    own('app', 'js', APP_JS, 'text/javascript; charset=utf-8'),
    own('api-docs', 'js', API_DOCS_JS, 'text/javascript; charset=utf-8'),
  ]);
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
