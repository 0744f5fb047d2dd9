import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { adminRoutes } from '../routes/admin/index.tsx';
import { apiRoutes } from '../routes/api/index.ts';
import { assetRoutes, buildAssetManifest } from '../routes/assets.ts';
import { callbackRoutes } from '../routes/callbacks/index.ts';
import type { AppEnv } from '../routes/env.ts';
import { healthRoutes } from '../routes/health.ts';
import { limitBody, MiB } from '../routes/middleware/body-limit.ts';
import { localOnly } from '../routes/middleware/local-only.ts';
import { noStore } from '../routes/middleware/no-store.ts';
import { requestIds } from '../routes/middleware/request-id.ts';
import { requestLog } from '../routes/middleware/request-log.ts';
import { errorHandler, notFoundHandler } from '../routes/problem.tsx';
import { problemRoutes } from '../routes/problems.tsx';
import type { Deps } from './deps.ts';

export type App = Hono<AppEnv>;

/**
 * Builds the whole HTTP app from its dependencies; the runtime entries (node.ts, main.ts,
 * server.ts) and tests call this. No I/O happens here beyond fingerprinting the static
 * assets, which runs concurrently and is awaited by the first request that needs it.
 */
export function createApp(deps: Deps): App {
  const startedAt = deps.clock.now();
  const manifest = buildAssetManifest(deps.staticAssets);
  const app: App = new Hono();

  app.use(requestIds());
  app.use(async (c, next) => {
    c.set('deps', deps);
    c.set('assets', await manifest);
    await next();
  });
  app.use(requestLog(deps.log));
  app.use(
    secureHeaders({
      // No inline script anywhere: htmx and our own script are files from /assets.
      contentSecurityPolicy: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
      },
      strictTransportSecurity: deps.config.publicUrl.startsWith('https://')
        ? 'max-age=63072000; includeSubDomains'
        : false,
      referrerPolicy: 'same-origin',
      // The console uses none of these; copying a token to the clipboard is its own.
      permissionsPolicy: {
        camera: [],
        microphone: [],
        geolocation: [],
        payment: [],
        usb: [],
        serial: [],
        hid: [],
        bluetooth: [],
        midi: [],
        displayCapture: [],
        browsingTopics: [],
        clipboardRead: [],
        clipboardWrite: ['self'],
      },
    }),
  );
  app.use('/admin/*', noStore());
  app.use('/api/*', noStore());
  app.onError(errorHandler(deps.log));
  app.notFound(notFoundHandler);

  app.get('/', (c) => c.redirect('/admin', 303));
  app.route('/', healthRoutes(startedAt));
  app.route('/assets', assetRoutes(manifest));
  app.route('/problems', problemRoutes());
  app.route('/admin', adminRoutes());
  app.route('/api/callbacks', callbackRoutes());
  app.route('/api', apiRoutes());
  // Local stand-ins for QStash and Fly, served only in embedded mode and tests, and only
  // to clients on this machine: their credentials are published constants.
  const { qstash, fly } = deps.dev;
  if (qstash || fly) app.use('/__dev/*', localOnly(), limitBody(10 * MiB));
  if (qstash) app.mount('/__dev/qstash', (request) => qstash.fetch(request));
  if (fly) app.mount('/__dev/fly', (request) => fly.fetch(request));
  return app;
}
