import { isIP } from 'node:net';
import type { Address } from '../core/types.js';
import { OptionError } from '../core/errors.js';

/**
 * Parses `host:port`, `[v6]:port` or memberlist's `name/host:port` (the name is dropped: a push/pull
 * tells who answers). The host is an IP address or `localhost`; a missing port means `defaultPort`
 * (7946, memberlist's). Throws an OptionError for anything else.
 */
export function parseAddress(text: string, defaultPort = 7946): Address {
  const trimmed = text.trim().replace(/^[^/]*\//, '');
  let host: string;
  let port: string | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(trimmed);
  if (bracketed) {
    host = bracketed[1]!;
    port = bracketed[2];
  } else if (isIP(trimmed) === 6) {
    host = trimmed;
  } else {
    const colon = trimmed.lastIndexOf(':');
    host = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
    port = colon >= 0 ? trimmed.slice(colon + 1) : undefined;
  }
  if (host === 'localhost') host = '127.0.0.1';
  if (!isIP(host)) throw new OptionError(`"${text}" is not an address: use an IP and a port, like 127.0.0.1:7946`);
  const portNumber = port === undefined || port === '' ? defaultPort : Number(port);
  if (!Number.isInteger(portNumber) || portNumber < 0 || portNumber > 65535) {
    throw new OptionError(`"${text}" has no valid port: use a number from 0 to 65535`);
  }
  return { host, port: portNumber };
}

/** `host:port`, with an IPv6 host in brackets (`[::1]:7946`): what `parseAddress` reads back. */
export function formatAddress(address: Address): string {
  return isIP(address.host) === 6 && !address.host.startsWith('::ffff:') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
