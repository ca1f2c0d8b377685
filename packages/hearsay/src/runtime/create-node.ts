import { randomInt } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { createRandom, DEFAULT_VSN, MemberNode, resolveConfig, startingIncarnation, type Address } from '../core/index.js';
import { OptionError } from '../core/errors.js';
import { metaFor } from '../serf/index.js';
import { formatAddress } from '../wire/host-port.js';
import { chooseAdvertiseHost } from './address.js';
import { HearsayNode } from './node.js';
import { checkNames, checkOptions, keyringFrom } from './options.js';
import { nameResolver, parseSeeds, resolveHost } from './resolve.js';
import { rejoinKnownMembers, SnapshotFile } from './snapshot-file.js';
import { closeListeners, listen, type Listeners } from './transport.js';
import type { NodeOptions } from './types.js';

const DEFAULT_BIND = '0.0.0.0:7946';
const DEFAULT_SEED_RETRY_INTERVAL_MS = 30_000;

/**
 * Creates a node: checks the options, binds its UDP and TCP sockets, restores its snapshot if
 * it keeps one (rejoining the members it saved, with `rejoin`) and, if seeds are given, joins
 * through them. The node runs until `shutdown()` (after `leave()`, to part gracefully).
 *
 * @example
 * const node = await createNode({ name: 'web-1', bind: '0.0.0.0:7946', join: ['10.0.0.2:7946'], tags: { role: 'web' } });
 * node.on('failed', (member) => console.log(`${member.name} failed`));
 *
 * @throws {@link OptionError} for an option it cannot use (unknown, of the wrong type, or out of range).
 * @throws {@link BindError} when the address cannot be bound.
 * @throws {@link JoinError} when seeds were given and none answered.
 */
export async function createNode(options: NodeOptions = {}): Promise<HearsayNode> {
  checkOptions(options);
  const name = options.name ?? hostname();
  if (name.length === 0 || name.length > 255) throw new OptionError('name must be 1 to 255 characters');
  if (options.join) parseSeeds(options.join);
  const resolver = nameResolver(options.dnsServers);
  const bind = await resolveHost('bind', options.bind ?? DEFAULT_BIND, 7946, resolver);
  const advertiseGiven = options.advertise ? await resolveHost('advertise', options.advertise, 0, resolver) : undefined;
  const keyring = options.keys && options.keys.length > 0 ? keyringFrom(options.keys) : undefined;
  const dropRate = options.dropRate ?? 0;
  if (!(dropRate >= 0 && dropRate <= 1)) throw new OptionError(`dropRate must be within 0 … 1, got ${dropRate}`);
  const meta = metaFor(options.tags ?? {});
  const config = resolveConfig(options.profile ?? 'lan', { ...options.config, packetOverheadBytes: keyring ? 29 : 0 });
  const protocol = options.protocol ?? 'swim';
  const pinned = checkNames(options.pinned ?? []);
  if ((options.rejoin || options.rejoinAfterLeave) && !options.snapshotPath)
    throw new OptionError('rejoin needs snapshotPath: the members to rejoin are those it saved');

  const listeners = await listen(bind.host, bind.port);
  let advertise: Address;
  let snapshot: SnapshotFile | undefined;
  try {
    advertise = advertisedAddress(advertiseGiven, listeners);
    if (options.snapshotPath) snapshot = await SnapshotFile.open(options.snapshotPath, { rejoinAfterLeave: options.rejoinAfterLeave ?? false });
  } catch (error) {
    await closeListeners(listeners, []);
    throw error;
  }
  const core = new MemberNode({
    profile: { name, host: advertise.host, port: advertise.port, meta, vsn: DEFAULT_VSN },
    config,
    random: createRandom(randomInt(2 ** 31)),
    now: Date.now(),
    // Unix seconds grow across restarts without saved state (core/restart.ts).
    incarnation: startingIncarnation(Date.now() / 1000),
    protocol,
    pinned,
  });
  const node = new HearsayNode(
    core,
    listeners,
    keyring,
    dropRate,
    {
      resolver,
      seedRetryIntervalMs: options.seedRetryIntervalMs ?? DEFAULT_SEED_RETRY_INTERVAL_MS,
    },
    snapshot,
  );
  try {
    // Before the seeds, as Serf's agent does; a rejoin nobody answers leaves the node alone, not failed.
    if (snapshot && (options.rejoin || options.rejoinAfterLeave)) await rejoinKnownMembers(node, snapshot);
    if (options.join && options.join.length > 0) await node.join(options.join);
  } catch (error) {
    await node.shutdown();
    throw error;
  }
  return node;
}

/** The advertised address: as given (port 0 or none meaning the bound one), else the bound one (a wildcard bind picks an interface). */
function advertisedAddress(advertise: Address | undefined, listeners: Listeners): Address {
  if (advertise) return { host: advertise.host, port: advertise.port || listeners.port };
  const host = chooseAdvertiseHost(listeners.host, networkInterfaces());
  if (host !== undefined) return { host, port: listeners.port };
  throw new OptionError(`bound to ${formatAddress({ host: listeners.host, port: listeners.port })} but found no address to advertise: pass advertise`);
}
