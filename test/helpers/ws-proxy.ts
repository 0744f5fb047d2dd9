import { connect as tcpConnect } from 'node:net';
import { WebSocketServer } from 'ws';
import { freePort } from './process.ts';

/**
 * A WebSocket-to-TCP relay like the one Neon runs in front of PostgreSQL, so tests can
 * drive the `@neondatabase/serverless` driver against a local server. The driver asks for
 * `ws://<proxy>/v1?address=<host>:<port>` and then speaks the PostgreSQL protocol over
 * binary frames (https://github.com/neondatabase/wsproxy).
 */
export async function startWsProxy(): Promise<{ url: string; close(): Promise<void> }> {
  const port = await freePort();
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  server.on('connection', (ws, req) => {
    const address = new URL(req.url ?? '/', 'http://proxy').searchParams.get('address') ?? '';
    const [host, portText] = address.split(':');
    const socket = tcpConnect(
      Number(portText),
      host === 'localhost' ? '127.0.0.1' : (host ?? '127.0.0.1'),
    );
    socket.on('data', (chunk) => ws.send(chunk));
    socket.on('close', () => ws.close());
    socket.on('error', () => ws.close());
    ws.on('message', (data) => socket.write(data as Buffer));
    ws.on('close', () => socket.end());
  });
  await new Promise<void>((resolve) => server.on('listening', () => resolve()));
  return {
    url: `ws://127.0.0.1:${port}/v1`,
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of server.clients) client.terminate();
        server.close(() => resolve());
      }),
  };
}
