/**
 * Whether an address or host name means this machine only: `localhost`, the IPv4 loopback
 * block 127.0.0.0/8 (RFC 1122 §3.2.1.3), IPv6 `::1` (RFC 4291 §2.5.3), and IPv4 loopback
 * written as an IPv4-mapped IPv6 address (`::ffff:127.0.0.1`, as Node reports IPv4 peers on a
 * dual-stack socket). Anything else, including null (unknown), is not loopback.
 */
export function isLoopback(address: string | null | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice('::ffff:'.length) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}
