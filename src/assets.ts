/** A static file served under `/assets/`; `path` is relative to `/assets/` and versioned. */
export type StaticAsset = {
  path: string;
  contentType: string;
  body: string | Uint8Array<ArrayBuffer>;
  /** Set for files the pages link to by role rather than by path. */
  role?: 'htmx' | 'swagger-ui-js' | 'swagger-ui-css';
};
