/** Our own browser files (views/assets/), fingerprinted by content when served. */
export type OwnAssetRole = 'app-js' | 'app-css' | 'api-docs-js';

/** A static file served under `/assets/`; `path` is relative to `/assets/` and versioned. */
export type StaticAsset = {
  path: string;
  contentType: string;
  body: string | Uint8Array<ArrayBuffer>;
  /**
   * Set for files the pages link to by role rather than by path. Our own files (`app-js`,
   * `app-css`, `api-docs-js`) are given a content fingerprint in their path when served.
   */
  role?: 'htmx' | 'swagger-ui-js' | 'swagger-ui-css' | OwnAssetRole;
};
