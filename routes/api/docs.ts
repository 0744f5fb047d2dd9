import { html } from 'hono/html';
import type { AssetManifest } from '../assets.ts';

/**
 * The browsable API reference (Swagger UI from the swagger-ui-dist package, served by us:
 * no CDN). Swagger UI sets inline style attributes, so this page alone allows inline
 * styles; scripts stay 'self' only.
 */
export const DOCS_CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'";

export function docsPage(urls: AssetManifest['urls']) {
  return html`<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>fleetwarden API reference</title>
    <link rel="icon" href="data:," />
    <link rel="stylesheet" href="${urls.swaggerUiCss}" />
  </head>
  <body>
    <div id="swagger-ui"></div>
    <script src="${urls.swaggerUiJs}"></script>
    <script src="${urls.apiDocsJs}"></script>
  </body>
</html>`;
}
