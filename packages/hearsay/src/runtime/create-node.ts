import { randomInt } from 'node:crypto';
import { hostname, networkInterfaces } from 'node:os';
import { createRandom, DEFAULT_VSN, MemberNode, resolveConfig, startingIncarnation, type Address } from '../core/index.js';
import { OptionError } from '../core/errors.js';
import { metaFor } from '../serf/index.js';
import { formatAddress, parseAddress } from '../wire/host-port.js';
import { HearsayNode } from './node.js';
import { checkNames, checkOptions, keyringFrom } from './options.js';
import { closeListeners, listen, type Listeners } from './transport.js';
import type { NodeOptions } from './types.js';

const DEFAULT_BIND = '0.0.0.0:7946';

/**
 * Creates a node: checks the options, binds its UDP and TCP sockets and, if seeds are given,
 * joins through them. The node runs until `shutdown()` (after `leave()`, to part gracefully).
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
  const bind = parseAddress(options.bind ?? DEFAULT_BIND);
  const keyring = options.keys && options.keys.length > 0 ? keyringFrom(options.keys) : undefined;
  const dropRate = options.dropRate ?? 0;
  if (!(dropRate >= 0 && dropRate <= 1)) throw new OptionError(`dropRate must be within 0 … 1, got ${dropRate}`);
  const meta = metaFor(options.tags ?? {});
  const config = resolveConfig(options.profile ?? 'lan', { ...options.config, packetOverheadBytes: keyring ? 29 : 0 });
  const protocol = options.protocol ?? 'swim';
  const pinned = checkNames(options.pinned ?? []);

  const listeners = await listen(bind.host, bind.port);
  let advertise: Address;
  try {
    advertise = advertisedAddress(options.advertise, listeners);
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
  const node = new HearsayNode(core, listeners, keyring, dropRate);
  if (options.join && options.join.length > 0) {
    try {
      await node.join(options.join);
    } catch (error) {
      await node.shutdown();
      throw error;
    }
  }
  return node;
}

/** The advertised address: as given, else the bound one (a wildcard bind picks an interface). */
function advertisedAddress(advertise: string | undefined, listeners: Listeners): Address {
  if (advertise) {
    const address = parseAddress(advertise, listeners.port);
    return { host: address.host, port: address.port || listeners.port };
  }
  if (listeners.host !== '0.0.0.0' && listeners.host !== '::') return { host: listeners.host, port: listeners.port };
  for (const addresses of Object.values(networkInterfaces())) {
    for (const address of addresses ?? []) {
      if (address.family === 'IPv4' && !address.internal) return { host: address.address, port: listeners.port };
    }
  }
  throw new OptionError(`bound to ${formatAddress({ host: listeners.host, port: listeners.port })} but found no address to advertise: pass advertise`);
}
