import { isIP } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import type { Address } from '../core/index.js';

/** Where to send to reach `host`: a v4-mapped IPv6 host is plain IPv4 to the socket. */
export function socketHost(host: string): string {
  return host.startsWith('::ffff:') && isIP(host.slice(7)) === 4 ? host.slice(7) : host;
}

/**
 * Where a UDP socket of that family sends to reach `host`: a socket bound to `::` is dual-stack
 * and reaches an IPv4 peer only by its v4-mapped address (plain IPv4 fails with EINVAL).
 */
export function udpSendHost(host: string, socketIsIPv6: boolean): string {
  const plain = socketHost(host);
  return socketIsIPv6 && isIP(plain) === 4 ? `::ffff:${plain}` : plain;
}

/** The system's interfaces as `os.networkInterfaces()` lists them. */
export type Interfaces = NodeJS.Dict<NetworkInterfaceInfo[]>;

const isLinkLocal = (address: string) => /^fe[89ab]/i.test(address);

/**
 * The host to advertise for a node bound to `bindHost`: the bound host itself, unless it is a
 * wildcard. For `0.0.0.0`, the first non-internal IPv4 address. For `::`, the first non-internal
 * IPv6 address that others can route to (link-local ones need a zone and are skipped), else the
 * first non-internal IPv4 one: a socket bound to `::` is dual-stack, so IPv4 peers reach it too.
 * Undefined when no interface fits.
 */
export function chooseAdvertiseHost(bindHost: string, interfaces: Interfaces): string | undefined {
  if (bindHost !== '0.0.0.0' && bindHost !== '::') return bindHost;
  const external = Object.values(interfaces).flatMap((list) => (list ?? []).filter((entry) => !entry.internal));
  const v4 = external.find((entry) => entry.family === 'IPv4')?.address;
  if (bindHost === '0.0.0.0') return v4;
  return external.find((entry) => entry.family === 'IPv6' && !isLinkLocal(entry.address))?.address ?? v4;
}

/**
 * Whether `address` reaches this node, bound to `bound` and advertising `advertised`: a seed list
 * may name the node itself (a headless Service lists every pod), and joining itself is no join.
 */
export function isOwnAddress(address: Address, bound: Address, advertised: Address, interfaces: Interfaces): boolean {
  const host = socketHost(address.host);
  if (host === socketHost(advertised.host) && address.port === advertised.port) return true;
  if (address.port !== bound.port) return false;
  if (host === bound.host) return true;
  if (bound.host !== '0.0.0.0' && bound.host !== '::') return false;
  return Object.values(interfaces).some((list) => (list ?? []).some((entry) => entry.address === host));
}
