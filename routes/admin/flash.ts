import type { Context } from 'hono';
import { deleteCookie, getSignedCookie, setSignedCookie } from 'hono/cookie';
import { z } from 'zod';
import type { FlashMessage } from '../../views/components/flash.tsx';
import type { AppEnv } from '../env.ts';

/**
 * One-shot messages across a POST-redirect-GET: the POST sets a signed cookie, the next
 * full page the browser renders shows it once and deletes it. Nothing rides in the URL,
 * so a reload or a shared link never repeats "Scheduled." (issue 14).
 */
const NAME = 'fw_flash';
const Message = z.object({ tone: z.enum(['ok', 'warn', 'error']), text: z.string().max(2000) });

function options(c: Context<AppEnv>) {
  const secure = c.get('deps').config.publicUrl.startsWith('https://');
  return {
    path: '/',
    secure,
    ...(secure ? { prefix: 'host' as const } : {}),
  };
}

/** Longest text kept: a cookie holds about 4 KB, and a flash is a sentence or two. */
const MAX_TEXT = 1000;

/** Queues `message` for the next page this browser renders (valid for 5 minutes). */
export async function setFlash(c: Context<AppEnv>, message: FlashMessage): Promise<void> {
  const { path, secure, prefix } = options(c);
  const text =
    message.text.length > MAX_TEXT ? `${message.text.slice(0, MAX_TEXT - 1)}…` : message.text;
  const value = JSON.stringify({ tone: message.tone, text });
  await setSignedCookie(c, NAME, value, c.get('deps').security.sessionSecret, {
    httpOnly: true,
    sameSite: 'Lax',
    path,
    secure,
    maxAge: 300,
    ...(prefix ? { prefix } : {}),
  });
}

/** Sets the flash and answers 303 to `location`: the POST-redirect-GET every console form ends with. */
export async function redirectWithFlash(
  c: Context<AppEnv>,
  location: string,
  message: FlashMessage,
): Promise<Response> {
  await setFlash(c, message);
  return c.redirect(location, 303);
}

/** The queued message, if any, removed as it is read (a forged or stale cookie is ignored). */
export async function takeFlash(c: Context<AppEnv>): Promise<FlashMessage | null> {
  const { prefix, ...rest } = options(c);
  const raw = await getSignedCookie(c, c.get('deps').security.sessionSecret, NAME, prefix);
  if (raw === undefined) return null;
  deleteCookie(c, NAME, { ...rest, ...(prefix ? { prefix } : {}) });
  if (!raw) return null;
  try {
    const parsed = Message.safeParse(JSON.parse(raw));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
