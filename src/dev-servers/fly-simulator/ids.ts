// Identifier shapes copied from Fly's examples (docs: machines-resource, volumes-resource;
// none is specified): machine ids 14 hex, versions 26-char ULIDs, `vol_` + 16, `vs_` + 24,
// lease nonces 12 hex, zones 4 hex, private IPs in fdaa::/16.
import { randomBytes } from '../../lib/crypto.ts';

const hex = (bytes: number) =>
  Array.from(randomBytes(bytes), (b) => b.toString(16).padStart(2, '0')).join('');

/** Crockford base32, as ULIDs use. */
const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const MIXED_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

function pick(alphabet: string, length: number): string {
  let out = '';
  // Modulo bias is irrelevant for simulated identifiers.
  for (const b of randomBytes(length)) out += alphabet[b % alphabet.length];
  return out;
}

export const machineId = () => hex(7);

let lastAt = -1;
let lastRandom: number[] = [];

/**
 * 48-bit millisecond time then 80 random bits, 26 Crockford characters (ulid/spec). Within
 * one millisecond the random part counts up (the spec's monotonic mode), so ids made in
 * order sort in order: events recorded in the same millisecond keep their sequence.
 */
export function ulid(at: number): string {
  if (at === lastAt) {
    let i = lastRandom.length - 1;
    while (i >= 0 && lastRandom[i] === 31) lastRandom[i--] = 0;
    if (i >= 0) lastRandom[i] = (lastRandom[i] ?? 0) + 1;
  } else {
    lastAt = at;
    // The top bit stays clear so counting up never overflows in practice.
    lastRandom = Array.from(randomBytes(16), (b, i) => (i === 0 ? b % 16 : b % 32));
  }
  let time = '';
  let t = at;
  for (let i = 0; i < 10; i++) {
    time = CROCKFORD[t % 32] + time;
    t = Math.floor(t / 32);
  }
  return time + lastRandom.map((d) => CROCKFORD[d]).join('');
}

export const volumeId = () => `vol_${pick(LOWER_ALNUM, 16)}`;
export const snapshotId = () => `vs_${pick(MIXED_ALNUM, 24)}`;
export const leaseNonce = () => hex(6);
export const zone = () => hex(2);
export const appId = () => pick(LOWER_ALNUM, 12);
export const digest = () => `sha256:${hex(32)}`;

export function privateIp(): string {
  const groups = Array.from({ length: 6 }, () => Number.parseInt(hex(2), 16).toString(16));
  return `fdaa:0:${groups.join(':')}`;
}

const ADJECTIVES = ['aged', 'bold', 'calm', 'damp', 'eager', 'fancy', 'green', 'hidden', 'icy'];
const NOUNS = ['wind', 'river', 'cloud', 'meadow', 'forest', 'lake', 'stone', 'field', 'star'];

/** Names like Fly's generated ones, e.g. `aged-wind-2649`. */
export function machineName(): string {
  const [a = 0, b = 0, n1 = 0, n2 = 0] = randomBytes(4);
  const number = ((n1 << 8) | n2) % 10_000;
  return `${ADJECTIVES[a % ADJECTIVES.length]}-${NOUNS[b % NOUNS.length]}-${number}`;
}
