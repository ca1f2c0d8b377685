import { promises as dns, type SrvRecord } from 'node:dns';
import { isIP } from 'node:net';
import type { Address } from '../core/index.js';
import { OptionError } from '../core/errors.js';
import { formatAddress, parseAddress, parseHostPort, parseSeed, SRV_PREFIX, type Seed } from '../wire/host-port.js';

/*
 * Names to addresses, for bind, advertise and join. IP literals never reach DNS. Without
 * `dnsServers` names go through the system resolver (getaddrinfo: /etc/hosts, nsswitch, search
 * domains), as every other program on the machine sees them; with them, straight to those servers.
 */

/** Looks names up: A and AAAA addresses, and SRV records. */
export interface NameResolver {
  /** Every address of `host` (IPv4 and IPv6), in the resolver's order; rejects when there is none. */
  addresses(host: string): Promise<string[]>;
  /** The SRV records of `name`; rejects when there is none. */
  srv(name: string): Promise<SrvRecord[]>;
}

/** A short reason a lookup failed: the resolver's code (ENOTFOUND, ETIMEOUT …), else its message. */
const reason = (error: unknown) => (error as NodeJS.ErrnoException)?.code ?? (error as Error)?.message ?? String(error);

/** The system resolver, or DNS servers (`ip` or `ip:port`, IPv4 or IPv6) asked directly. */
export function nameResolver(dnsServers?: readonly string[]): NameResolver {
  if (!dnsServers || dnsServers.length === 0) {
    return {
      addresses: async (host) => (await dns.lookup(host, { all: true })).map((entry) => entry.address),
      srv: (name) => dns.resolveSrv(name),
    };
  }
  // A few seconds per server, not c-ares' default minutes of retries: a join should fail fast.
  const resolver = new dns.Resolver({ timeout: 2000, tries: 2 });
  resolver.setServers(checkDnsServers(dnsServers));
  return {
    async addresses(host) {
      const [v4, v6] = await Promise.allSettled([resolver.resolve4(host), resolver.resolve6(host)]);
      const found = [v4, v6].flatMap((result) => (result.status === 'fulfilled' ? result.value : []));
      if (found.length > 0) return found;
      // A name with no AAAA (ENODATA) says less than why it has no A: report the A failure.
      throw (v4 as PromiseRejectedResult).reason;
    },
    srv: (name) => resolver.resolveSrv(name),
  };
}

/** DNS servers as `Resolver.setServers` takes them; an OptionError for one that is not `ip` or `ip:port`. */
export function checkDnsServers(servers: readonly string[]): string[] {
  return servers.map((text, index) => {
    const bad = () => new OptionError(`dnsServers[${index}] "${text}" is not a DNS server: use an IP with an optional port, like 10.0.0.2 or [fd00::53]:5353`);
    if (text.includes('/')) throw bad();
    try {
      const address = parseAddress(text, 53);
      if (address.port === 0) throw bad();
      return formatAddress(address);
    } catch {
      throw bad();
    }
  });
}

/**
 * The host of a bind or advertise option as an IP: a name resolving to several addresses gives
 * the first, in the resolver's order. An OptionError, naming the option, when it does not resolve.
 */
export async function resolveHost(option: string, text: string, defaultPort: number, resolver: NameResolver): Promise<Address> {
  const parsed = parseHostPort(text, defaultPort);
  if (!parsed.isName) return { host: parsed.host, port: parsed.port };
  try {
    const [first] = await resolver.addresses(parsed.host);
    return { host: first!, port: parsed.port };
  } catch (error) {
    throw new OptionError(`"${text}" is not an address: ${option} names ${parsed.host}, which does not resolve (${reason(error)})`, { cause: error });
  }
}

/** Reads every seed up front, so that a malformed one is an OptionError before any lookup. */
export function parseSeeds(entries: readonly string[]): Seed[] {
  return entries.map((entry) => parseSeed(entry));
}

/** What a list of seeds resolved to: addresses to join (no duplicates), and why any seed gave none, in the seeds' order. */
export interface ResolvedSeeds {
  readonly addresses: Address[];
  readonly errors: string[];
}

/**
 * Resolves seeds: an IP as is, a name to all of its addresses (each seed to try), an SRV name
 * to its targets' addresses with the records' ports, by ascending priority (then descending
 * weight; no weighted shuffle: all targets are tried anyway). Lookups run in parallel.
 */
export async function resolveSeeds(seeds: readonly Seed[], resolver: NameResolver): Promise<ResolvedSeeds> {
  const each = await Promise.all(
    seeds.map(async (seed) => {
      const errors: string[] = [];
      return { addresses: await resolveSeed(seed, resolver, errors), errors };
    }),
  );
  const unique = new Map<string, Address>();
  for (const address of each.flatMap((seed) => seed.addresses)) unique.set(formatAddress(address), address);
  return { addresses: [...unique.values()], errors: each.flatMap((seed) => seed.errors) };
}

async function resolveSeed(seed: Seed, resolver: NameResolver, errors: string[]): Promise<Address[]> {
  if (seed.kind === 'host') {
    if (!seed.isName) return [{ host: seed.host, port: seed.port }];
    return collect([await withPort(seed.host, seed.port, resolver, `${seed.host}:${seed.port}`)], errors);
  }
  let records: SrvRecord[];
  try {
    records = await resolver.srv(seed.name);
  } catch (error) {
    errors.push(`${SRV_PREFIX}${seed.name}: no SRV records (${reason(error)})`);
    return [];
  }
  // A target of "." says the service is not offered there (RFC 2782).
  const ordered = records.filter((record) => record.name !== '' && record.name !== '.').sort((a, b) => a.priority - b.priority || b.weight - a.weight);
  const targets = await Promise.all(ordered.map((record) => withPort(record.name, record.port, resolver, `${SRV_PREFIX}${seed.name} → ${record.name}`)));
  return collect(targets, errors);
}

/** The addresses of lookups that worked, in order; the others' errors go to `errors`, in order. */
function collect(results: (Address[] | string)[], errors: string[]): Address[] {
  for (const result of results) if (typeof result === 'string') errors.push(result);
  return results.flatMap((result) => (typeof result === 'string' ? [] : result));
}

/** Every address of `host`, each with `port`; what went wrong, as a line naming `label`, if none. */
async function withPort(host: string, port: number, resolver: NameResolver, label: string): Promise<Address[] | string> {
  if (isIP(host)) return [{ host, port }];
  try {
    return (await resolver.addresses(host)).map((address) => ({ host: address, port }));
  } catch (error) {
    return `${label}: ${host} does not resolve (${reason(error)})`;
  }
}
