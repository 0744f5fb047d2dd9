/** The machine environment variable that carries the controller's bearer token. */
export const CONTROLLER_TOKEN_ENV = 'FLEETWARDEN_CONTROLLER_TOKEN';

const encoder = new TextEncoder();
const keys = new Map<string, Promise<CryptoKey>>();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = crypto.subtle.importKey(
      'raw',
      encoder.encode(secret),
      { name: 'HMAC', hash: 'SHA-256' },
      false,
      ['sign'],
    );
    // One secret per deployment: the cache stays one entry (two in tests at most).
    keys.set(secret, key);
  }
  return key;
}

/**
 * The instance controller's bearer token for one instance: lower-case hex
 * HMAC-SHA-256(`secret`, `instanceId`) (RFC 2104, WebCrypto), 64 characters. Derived on
 * demand, so it is never stored; callers must not log it. See docs/controller-openapi.yaml.
 */
export async function controllerToken(secret: string, instanceId: string): Promise<string> {
  const mac = await crypto.subtle.sign('HMAC', await hmacKey(secret), encoder.encode(instanceId));
  return Array.from(new Uint8Array(mac), (b) => b.toString(16).padStart(2, '0')).join('');
}
