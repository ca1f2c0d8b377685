import { isIP } from 'node:net';

/** Where to send to reach `host`: a v4-mapped IPv6 host is plain IPv4 to the socket. */
export function socketHost(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}
