import { serve } from '@hono/node-server';
import { afterAll } from 'vitest';
import { freePort } from './process.ts';

export type Received = { url: string; method: string; headers: Headers; body: string };
type Reply = { status: number; headers?: Record<string, string>; body?: string };

/**
 * A real HTTP endpoint that records what QStash (the emulator) delivers to it. Replies are
 * taken in order from `replies` (then 200), so a test can script failures.
 */
export async function startDestination() {
  const port = await freePort();
  const received: Received[] = [];
  const replies: Reply[] = [];
  const server = serve({
    port,
    hostname: '127.0.0.1',
    fetch: async (req) => {
      received.push({
        url: req.url,
        method: req.method,
        headers: req.headers,
        body: await req.text(),
      });
      const reply = replies.shift() ?? { status: 200, body: '{"ok":true}' };
      return new Response(reply.body ?? '', { status: reply.status, headers: reply.headers ?? {} });
    },
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return {
    base: `http://127.0.0.1:${port}`,
    received,
    reply(...next: Reply[]) {
      replies.push(...next);
    },
  };
}
