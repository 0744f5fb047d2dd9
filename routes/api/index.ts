import { limitBody, MiB } from '../middleware/body-limit.ts';
import { adminApi } from './admin/index.ts';
import { apiApp } from './app.ts';
import { DOCS_CSP, docsPage } from './docs.ts';
import { IDEMPOTENCY_KEY_PARAMETER } from './idempotent.ts';
import { platformApi } from './platform/index.ts';

/**
 * JSON API: /api/admin (admin API tokens), /api/platform (platform API keys), the OpenAPI
 * 3.1 document at /api/openapi.json and a browsable reference at /api/docs.
 */
export function apiRoutes() {
  const api = apiApp();
  // The largest body is a schedule request with 20,000 instance ids (≈ 800 KB).
  api.use('*', limitBody(MiB));
  api.openAPIRegistry.registerComponent('securitySchemes', 'adminToken', {
    type: 'http',
    scheme: 'bearer',
    description: 'Admin API token (`fwa_…`), created under Settings in the console.',
  });
  api.openAPIRegistry.registerComponent('securitySchemes', 'platformKey', {
    type: 'http',
    scheme: 'bearer',
    description:
      "Platform API key (`fwp_…`), created under Settings in the console, with the user the request acts for in a `Fleetwarden-User: <user id>` header (routes under `/users/{userId}` take the path's); or a short-lived user token (`fwu_…`) minted with `POST /platform/users/{userId}/tokens`, which acts for its user only. Every platform route checks that the instance, CLI run, agent or push token it names belongs to that user and answers 404 otherwise; users never see admins' CLI runs. Without a user: 400 `user-required`.",
  });
  api.openAPIRegistry.registerComponent('parameters', 'IdempotencyKey', IDEMPOTENCY_KEY_PARAMETER);
  api.doc31('/openapi.json', (c) => ({
    openapi: '3.1.0',
    info: {
      title: 'fleetwarden API',
      version: '1',
      description:
        'Control plane for per-user agent instances on Fly.io Machines. Errors are RFC 9457 problem details; times are ISO-8601 UTC. ' +
        'Request bodies are strict (`additionalProperties: false`): an unknown field is a 400 naming it. Unknown query parameters are ignored. ' +
        'Text may not contain NUL (U+0000) or unpaired surrogates, and JSON bodies must be UTF-8 (otherwise 400). ' +
        'Bodies over 1 MiB are refused with 413.',
    },
    servers: [{ url: `${c.get('deps').config.publicUrl}/api` }],
  }));
  api.get('/docs', async (c) => {
    c.header('Content-Security-Policy', DOCS_CSP);
    return c.html(docsPage(c.get('assets').urls));
  });
  api.route('/admin', adminApi());
  api.route('/platform', platformApi());
  return api;
}
