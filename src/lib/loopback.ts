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

/**
 * Whether a `Host` header names this machine on one of `ports`: a loopback name or address
 * (see {@link isLoopback}) with an explicit port in `ports`. A page that rebinds its own
 * DNS name to 127.0.0.1 still sends its own name as `Host`, so this refuses it. An absent
 * or unparsable header is not local.
 */
export function isLoopbackHost(host: string | null | undefined, ports: number[]): boolean {
  if (!host) return false;
  let url: URL;
  try {
    url = new URL(`http://${host}`);
  } catch {
    return false;
  }
  // Anything but `host[:port]` (a path, credentials) is refused, not reinterpreted.
  if (url.host !== host.toLowerCase() || url.username || url.pathname !== '/') return false;
  const port = Number(url.port || 80);
  return isLoopback(url.hostname) && ports.includes(port);
}
