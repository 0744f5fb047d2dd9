import type { Config } from '../../config.ts';
import { createRequestLimiter } from '../../lib/request-limiter.ts';
import { createExpoPusher } from './expo.ts';
import type { Pusher } from './pusher.ts';

/** The push limiter for the configured rate (a burst of one second's worth). */
export function pushLimiter(config: Config, maxWaitMs = config.work.stepBudgetMs) {
  const perSecond = config.notices.pushRequestsPerSecond;
  return createRequestLimiter({ rate: { perSecond, burst: Math.max(1, perSecond) }, maxWaitMs });
}

/** The configured pusher: Expo's push service, or the outbox stand-in when given. */
export function setupPusher(config: Config, outbox: Pusher | null): Pusher {
  const push = config.notices.push;
  if (push.kind === 'outbox' && outbox) return outbox;
  return createExpoPusher({
    accessToken: push.kind === 'expo' ? push.accessToken : null,
    ...(push.kind === 'expo' && push.baseUrl ? { baseUrl: push.baseUrl } : {}),
    limiter: pushLimiter(config),
  });
}
