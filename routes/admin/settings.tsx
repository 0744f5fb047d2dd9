import { type Context, Hono } from 'hono';
import { getCookie } from 'hono/cookie';
import { z } from 'zod';
import { createAdmin, disableAdmin, listAdmins } from '../../src/auth/admins.ts';
import { createApiKey, listApiKeys, revokeApiKey } from '../../src/auth/api-keys.ts';
import { addImage, listCatalog, setImageStatus, setLatestImage } from '../../src/fleet/catalog.ts';
import { AppError } from '../../src/lib/errors.ts';
import { timeZones } from '../../views/format.ts';
import {
  AdminRow,
  ApiKeyRow,
  type RevealedSecret,
  SettingsPage,
} from '../../views/pages/settings.tsx';
import { type AppEnv, ctxOf, zoneOf } from '../env.ts';
import { redirectWithFlash } from './flash.ts';
import { htmlValidator } from './validate.ts';

/**
 * The browser's own zone, as app.js stores it in the `tz` cookie on every page (whatever
 * zone the admin chose); null when unknown or not a zone.
 */
function browserZoneOf(c: Context<AppEnv>): string | null {
  const zone = getCookie(c, 'tz');
  return zone && (zone === 'UTC' || timeZones().includes(zone)) ? zone : null;
}

async function renderSettings(
  c: Context<AppEnv>,
  extra: { revealed?: RevealedSecret; error?: string } = {},
  status: 200 | 201 | 422 = 200,
) {
  const { db } = c.get('deps');
  const me = c.get('admin');
  if (!me) throw new Error('settings rendered without an admin');
  const [admins, adminTokens, platformKeys, images] = await Promise.all([
    listAdmins(db),
    listApiKeys(db, 'admin'),
    listApiKeys(db, 'platform'),
    listCatalog(db),
  ]);
  c.status(status);
  return c.render(
    <SettingsPage
      me={{ id: me.id, email: me.email, timeZone: me.timeZone }}
      admins={admins}
      adminTokens={adminTokens}
      platformKeys={platformKeys}
      zones={timeZones()}
      images={images}
      zone={zoneOf(c)}
      browserZone={browserZoneOf(c)}
      revealed={extra.revealed ?? null}
      error={extra.error ?? null}
    />,
    { title: 'Settings', active: 'settings' },
  );
}

const IdParam = z.object({ id: z.uuid() });

/** Console: admins, admin API tokens and platform API keys. */
export function settingsRoutes() {
  const app = new Hono<AppEnv>();

  app.get('/', (c) => renderSettings(c));

  // Secrets are rendered into this response only (never a redirect, cookie or log), once.
  app.post(
    '/api-keys',
    htmlValidator(
      'form',
      z.object({
        kind: z.enum(['admin', 'platform']),
        label: z.string().trim().min(1, 'required').max(100),
      }),
    ),
    async (c) => {
      const input = c.req.valid('form');
      const { key, apiKey } = await createApiKey({ ctx: ctxOf(c), input });
      return renderSettings(
        c,
        {
          revealed: {
            title: `${apiKey.kind === 'admin' ? 'Admin API token' : 'Platform API key'} "${apiKey.label}" created`,
            value: key,
            note: 'Copy it now: it is shown only this once. Only a hash is stored.',
          },
        },
        201,
      );
    },
  );

  app.post('/api-keys/:id/revoke', htmlValidator('param', IdParam), async (c) => {
    const apiKey = await revokeApiKey({ ctx: ctxOf(c), input: c.req.valid('param') });
    if (c.req.header('HX-Request')) return c.html(<ApiKeyRow k={apiKey} zone={zoneOf(c)} />);
    return c.redirect('/admin/settings', 303);
  });

  app.post(
    '/admins',
    htmlValidator(
      'form',
      z.object({
        email: z.email('must be an email address'),
        displayName: z.string().trim().max(100).optional(),
      }),
    ),
    async (c) => {
      const input = c.req.valid('form');
      try {
        const { admin, oneTimePassword } = await createAdmin({ ctx: ctxOf(c), input });
        return renderSettings(
          c,
          {
            revealed: {
              title: `Admin ${admin.email} added`,
              value: oneTimePassword,
              note: 'Give them this one-time password. It is shown only this once; they choose their own at first sign-in.',
            },
          },
          201,
        );
      } catch (err) {
        if (err instanceof AppError && err.status === 409)
          return renderSettings(c, { error: err.message }, 422);
        throw err;
      }
    },
  );

  const Tag = z.object({ tag: z.string().min(1).max(300) });
  const catalogAction = async (c: Context<AppEnv>, run: () => Promise<unknown>) => {
    try {
      await run();
    } catch (err) {
      if (err instanceof AppError && err.status >= 400 && err.status < 500)
        return renderSettings(c, { error: err.message }, 422);
      throw err;
    }
    return redirectWithFlash(c, '/admin/settings#catalog', {
      tone: 'ok',
      text: 'Image catalog saved.',
    });
  };
  app.post(
    '/images',
    htmlValidator(
      'form',
      z.object({
        imageTag: z
          .string()
          .trim()
          .min(3)
          .max(300)
          .regex(/^[^\s]+:[^\s:]+$/, 'must look like registry/repository:tag'),
        versionLabel: z.string().trim().min(1).max(50),
        variant: z.string().trim().max(50).optional(),
        latest: z.literal('true').optional(),
      }),
    ),
    (c) => {
      const f = c.req.valid('form');
      return catalogAction(c, () =>
        addImage({
          ctx: ctxOf(c),
          input: {
            imageTag: f.imageTag,
            versionLabel: f.versionLabel,
            variant: f.variant || 'default',
            latest: f.latest === 'true',
          },
        }),
      );
    },
  );
  app.post('/images/latest', htmlValidator('query', Tag), (c) =>
    catalogAction(c, () =>
      setLatestImage({ ctx: ctxOf(c), input: { imageTag: c.req.valid('query').tag } }),
    ),
  );
  app.post('/images/disable', htmlValidator('query', Tag), (c) =>
    catalogAction(c, () =>
      setImageStatus({
        ctx: ctxOf(c),
        input: { imageTag: c.req.valid('query').tag, status: 'disabled' },
      }),
    ),
  );
  app.post('/images/enable', htmlValidator('query', Tag), (c) =>
    catalogAction(c, () =>
      setImageStatus({
        ctx: ctxOf(c),
        input: { imageTag: c.req.valid('query').tag, status: 'available' },
      }),
    ),
  );

  app.post('/admins/:id/disable', htmlValidator('param', IdParam), async (c) => {
    const admin = await disableAdmin({
      ctx: ctxOf(c),
      input: { adminId: c.req.valid('param').id },
    });
    if (c.req.header('HX-Request'))
      return c.html(<AdminRow a={admin} zone={zoneOf(c)} meId={c.get('admin')?.id ?? ''} />);
    return c.redirect('/admin/settings', 303);
  });

  return app;
}
