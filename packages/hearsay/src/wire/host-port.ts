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

/** A host as hearsay's options name it: an IP literal, used as is, or a DNS name to resolve. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
  /** Whether `host` is a DNS name (to resolve) rather than an IP literal. */
  readonly isName: boolean;
}

/** A seed as `join` takes it: a host (IP or DNS name) and port, or an SRV name whose records give both. */
export type Seed = ({ readonly kind: 'host' } & HostPort) | { readonly kind: 'srv'; readonly name: string };

/** The prefix of an SRV seed: a scheme, which no `host:port` can start with (a host has no `+`). */
export const SRV_PREFIX = 'dns+srv:';

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/i;

/**
 * Whether `name` is a DNS name hearsay resolves: dot-separated labels of letters, digits, `-`
 * and `_` (SRV owners start with `_`), at most 253 characters, a trailing dot allowed. A last
 * label of digits only is refused, so that a mistyped IPv4 (`10.0.0.300`) is not looked up.
 */
export function isDnsName(name: string): boolean {
  const bare = name.endsWith('.') ? name.slice(0, -1) : name;
  if (bare.length === 0 || bare.length > 253) return false;
  const labels = bare.split('.');
  return labels.every((label) => LABEL.test(label)) && !/^\d+$/.test(labels.at(-1)!);
}

/**
 * Like {@link parseAddress}, but the host may also be a DNS name (`seed.example.org:7946`),
 * left for the caller to resolve. Throws an OptionError naming what is wrong.
 */
export function parseHostPort(text: string, defaultPort = 7946): HostPort {
  const trimmed = text.trim().replace(/^[^/]*\//, '');
  const colon = trimmed.lastIndexOf(':');
  const named = /^[^:[\]]+(?::[^:]*)?$/.test(trimmed) && !isIP(colon >= 0 ? trimmed.slice(0, colon) : trimmed);
  if (!named) return { ...parseAddress(text, defaultPort), isName: false };
  const host = colon >= 0 ? trimmed.slice(0, colon) : trimmed;
  if (host === 'localhost') return { ...parseAddress(text, defaultPort), isName: false };
  if (!isDnsName(host)) {
    throw new OptionError(`"${text}" is not an address: use an IP or a DNS name and a port, like 10.0.0.1:7946 or seed.example.org:7946`);
  }
  const port = colon >= 0 ? trimmed.slice(colon + 1) : '';
  const portNumber = port === '' ? defaultPort : Number(port);
  if (!/^\d*$/.test(port) || !Number.isInteger(portNumber) || portNumber > 65535) {
    throw new OptionError(`"${text}" has no valid port: use a number from 0 to 65535`);
  }
  return { host, port: portNumber, isName: true };
}

/** Reads a seed: `dns+srv:_hearsay._udp.example.org`, or what {@link parseHostPort} reads. */
export function parseSeed(text: string): Seed {
  const trimmed = text.trim();
  if (trimmed.toLowerCase().startsWith(SRV_PREFIX)) {
    const name = trimmed.slice(SRV_PREFIX.length);
    if (!isDnsName(name)) {
      throw new OptionError(`"${text}" is not an SRV seed: write ${SRV_PREFIX} and a DNS name, like ${SRV_PREFIX}_hearsay._udp.example.org`);
    }
    return { kind: 'srv', name };
  }
  return { kind: 'host', ...parseHostPort(trimmed) };
}
