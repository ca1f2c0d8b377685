/**
 * Finding peers by name: hostnames and SRV seeds resolved through a private dnsmasq, a seed that
 * moves, an isolated node that rejoins on its own, IPv6, and the errors for bad or unknown names.
 */
import type { NetworkInterfaceInfo } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { createNode, JoinError, OptionError, type HearsayNode, type NodeOptions } from '../../packages/hearsay/src/index.js';
import { chooseAdvertiseHost, isOwnAddress, type Interfaces } from '../../packages/hearsay/src/runtime/address.js';
import { type NameResolver, resolveSeeds } from '../../packages/hearsay/src/runtime/resolve.js';
import { parseSeed } from '../../packages/hearsay/src/wire/host-port.js';
import { HAVE_DNSMASQ, startDnsmasq, type Dnsmasq } from '../helpers/dnsmasq.js';
import { FAST } from '../helpers/timings.js';
import { waitFor } from '../helpers/wait.js';

/** Short, so that the tests see several retries; the default is 30 s. */
const RETRY_MS = 200;
/** How long after a node finds itself alone it must have rejoined: one interval late at most, plus a join on a loaded machine. */
const REJOIN_BOUND_MS = 2 * RETRY_MS + 2000;

const nodes: HearsayNode[] = [];
let dnsmasq: Dnsmasq | undefined;
afterEach(async () => {
  await Promise.all(nodes.splice(0).map((node) => node.shutdown()));
  await dnsmasq?.stop();
  dnsmasq = undefined;
});

async function start(name: string, options: NodeOptions): Promise<HearsayNode> {
  const node = await createNode({ name, config: FAST, seedRetryIntervalMs: RETRY_MS, ...options });
  nodes.push(node);
  return node;
}

const alive = (node: HearsayNode) =>
  node
    .members()
    .filter((member) => member.status === 'alive')
    .map((member) => member.name)
    .sort();

function converged(group: HearsayNode[]): () => boolean {
  const names = group.map((node) => node.name).sort();
  return () => group.every((node) => alive(node).join() === names.join());
}

describe('seeds, read and checked', () => {
  it('reads IPs, names and SRV seeds', () => {
    expect(parseSeed('10.0.0.1:7000')).toEqual({ kind: 'host', host: '10.0.0.1', port: 7000, isName: false });
    expect(parseSeed('[::1]:7000')).toEqual({ kind: 'host', host: '::1', port: 7000, isName: false });
    expect(parseSeed('seed.test')).toEqual({ kind: 'host', host: 'seed.test', port: 7946, isName: true });
    expect(parseSeed('hearsay-0.hearsay.default.svc.cluster.local:7946')).toMatchObject({ host: 'hearsay-0.hearsay.default.svc.cluster.local', isName: true });
    expect(parseSeed('dns+srv:_hearsay._udp.cluster.test')).toEqual({ kind: 'srv', name: '_hearsay._udp.cluster.test' });
  });

  it.each([
    [{ join: ['dns+srv:'] }, /"dns\+srv:" is not an SRV seed: write dns\+srv: and a DNS name/],
    [{ join: ['dns+srv:_hearsay._udp.cluster.test:7946'] }, /is not an SRV seed/],
    [{ join: ['seed..test:7946'] }, /"seed\.\.test:7946" is not an address: use an IP or a DNS name/],
    [{ join: ['10.0.0.300:7946'] }, /"10\.0\.0\.300:7946" is not an address/],
    [{ join: ['seed.test:70000'] }, /"seed\.test:70000" has no valid port/],
    [{ bind: 'bad_name!:0' }, /"bad_name!:0" is not an address/],
    [{ dnsServers: ['dns.test'] }, /dnsServers\[0\] "dns\.test" is not a DNS server: use an IP/],
    [{ dnsServers: '10.0.0.2' }, /option "dnsServers" must be a list of DNS server addresses/],
    [{ seedRetryIntervalMs: -1 }, /option "seedRetryIntervalMs" must be a whole number of milliseconds from 0/],
  ])('refuses %j with a precise OptionError', async (options, message) => {
    const error = await createNode({ name: 'bad', bind: '127.0.0.1:0', config: FAST, ...(options as NodeOptions) }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(OptionError);
    expect((error as Error).message).toMatch(message);
  });
});

describe('resolving seeds (a fake resolver)', () => {
  const resolver: NameResolver = {
    addresses: async (host) => {
      const known: Record<string, string[]> = { 'a.test': ['10.0.0.1', 'fd00::1'], 'b.test': ['10.0.0.2'], 'c.test': ['10.0.0.3'] };
      if (!known[host]) throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      return known[host];
    },
    srv: async () => [
      { name: 'c.test', port: 3, priority: 20, weight: 1 },
      { name: '.', port: 9, priority: 0, weight: 0 },
      { name: 'b.test', port: 2, priority: 10, weight: 1 },
      { name: 'a.test', port: 1, priority: 10, weight: 5 },
      { name: 'gone.test', port: 4, priority: 30, weight: 0 },
    ],
  };

  it('orders SRV targets by priority then weight, skips ".", and names a target that does not resolve', async () => {
    const { addresses, errors } = await resolveSeeds([parseSeed('dns+srv:_hearsay._udp.cluster.test')], resolver);
    expect(addresses.map((a) => `${a.host}/${a.port}`)).toEqual(['10.0.0.1/1', 'fd00::1/1', '10.0.0.2/2', '10.0.0.3/3']);
    expect(errors).toEqual(['dns+srv:_hearsay._udp.cluster.test → gone.test: gone.test does not resolve (ENOTFOUND)']);
  });

  it('gives every address of a name, once, IP literals untouched', async () => {
    const { addresses } = await resolveSeeds(['a.test:7000', '10.0.0.1:7000', '[::1]:7000'].map(parseSeed), resolver);
    expect(addresses).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: 'fd00::1', port: 7000 },
      { host: '::1', port: 7000 },
    ]);
  });
});

describe('the address a wildcard bind advertises', () => {
  const entry = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal }) as NetworkInterfaceInfo;
  const interfaces: Interfaces = {
    lo: [entry('127.0.0.1', 'IPv4', true), entry('::1', 'IPv6', true)],
    eth0: [entry('fe80::1', 'IPv6'), entry('10.0.0.5', 'IPv4'), entry('2001:db8::5', 'IPv6')],
  };

  it('is the bound host when it is not a wildcard', () => {
    expect(chooseAdvertiseHost('::1', interfaces)).toBe('::1');
    expect(chooseAdvertiseHost('127.0.0.2', interfaces)).toBe('127.0.0.2');
  });

  it('is the first external IPv4 for 0.0.0.0, as before', () => {
    expect(chooseAdvertiseHost('0.0.0.0', interfaces)).toBe('10.0.0.5');
    expect(chooseAdvertiseHost('0.0.0.0', { lo: interfaces.lo })).toBeUndefined();
  });

  it('is the first routable IPv6 for ::, skipping link-local, else IPv4 (the socket is dual-stack)', () => {
    expect(chooseAdvertiseHost('::', interfaces)).toBe('2001:db8::5');
    expect(chooseAdvertiseHost('::', { lo: interfaces.lo, eth0: [entry('fe80::1', 'IPv6'), entry('10.0.0.5', 'IPv4')] })).toBe('10.0.0.5');
    expect(chooseAdvertiseHost('::', { lo: interfaces.lo })).toBeUndefined();
  });

  it('knows the node itself among its seeds', () => {
    const bound = { host: '0.0.0.0', port: 7946 };
    const advertised = { host: '10.0.0.5', port: 7946 };
    expect(isOwnAddress({ host: '10.0.0.5', port: 7946 }, bound, advertised, interfaces)).toBe(true);
    expect(isOwnAddress({ host: '127.0.0.1', port: 7946 }, bound, advertised, interfaces)).toBe(true);
    expect(isOwnAddress({ host: '10.0.0.6', port: 7946 }, bound, advertised, interfaces)).toBe(false);
    expect(isOwnAddress({ host: '10.0.0.5', port: 7947 }, bound, advertised, interfaces)).toBe(false);
  });
});

describe('without DNS', () => {
  it('two nodes on [::1] join and converge', async () => {
    const a = await start('v6-a', { bind: '[::1]:0' });
    const b = await start('v6-b', { bind: '[::1]:0', join: [`[::1]:${a.address.port}`] });
    await waitFor('both alive on both', converged([a, b]));
    expect(b.member('v6-a')).toMatchObject({ address: '::1', port: a.address.port });
  });

  it('a node bound to :: (dual-stack) exchanges with an IPv4 node', async () => {
    const v4 = await start('dual-v4', { bind: '127.0.0.1:0' });
    const dual = await start('dual-any', { bind: '[::]:0', advertise: '127.0.0.1', join: [`127.0.0.1:${v4.address.port}`] });
    await waitFor('both alive on both', converged([v4, dual]));
    expect(dual.advertised).toEqual({ host: '127.0.0.1', port: dual.address.port });
    // A probe answered over UDP: the IPv6 socket reached the IPv4 peer (by its v4-mapped address).
    await waitFor('dual-any to measure a round trip to dual-v4', () => dual.member('dual-v4')?.rttMs !== undefined);
    expect(dual.stats.traffic.sendErrors).toBe(0);
  });

  it('an isolated node rejoins once its seed comes back on the same address', async () => {
    const seed = await start('seed', { bind: '127.0.0.2:0' });
    const port = seed.address.port;
    const other = await start('other', { bind: '127.0.0.1:0', join: [`127.0.0.2:${port}`] });
    await waitFor('both alive on both', converged([seed, other]));
    await seed.shutdown();
    await waitFor('the seed failed at the other node', () => other.member('seed')?.status === 'failed');
    const retriesWhenAlone = other.stats.seeds.retries;
    const back = await start('seed', { bind: `127.0.0.2:${port}` });
    await waitFor('the other node to rejoin the restarted seed', converged([back, other]), { timeoutMs: REJOIN_BOUND_MS });
    expect(other.stats.seeds.retries).toBeGreaterThan(retriesWhenAlone);
    expect(other.stats.seeds.rejoins).toBeGreaterThanOrEqual(1);
  });

  it('a seed list naming only the node itself is no failure: it is the first member', async () => {
    const first = await start('first', { bind: '127.0.0.2:0' });
    await expect(first.join([`127.0.0.2:${first.address.port}`])).resolves.toBe(0);
  });
});

describe.skipIf(!HAVE_DNSMASQ)('through a private DNS server (dnsmasq)', () => {
  it('joins by a hostname with two addresses, one of them dead', async () => {
    const seed = await start('seed', { bind: '127.0.0.2:0' });
    // Nothing listens on 127.0.0.3 at that port: that address is refused.
    dnsmasq = await startDnsmasq({ hosts: { 'seed.test': ['127.0.0.2', '127.0.0.3'] } });
    const joiner = await createNode({ name: 'joiner', bind: '127.0.0.1:0', config: FAST, dnsServers: [dnsmasq.server] });
    nodes.push(joiner);
    await expect(joiner.join([`seed.test:${seed.address.port}`])).resolves.toBe(1);
    await waitFor('both alive on both', converged([seed, joiner]));
  });

  it('joins by SRV records, reaching both targets at their ports', async () => {
    const a = await start('srv-a', { bind: '127.0.0.2:0' });
    const b = await start('srv-b', { bind: '127.0.0.3:0' });
    dnsmasq = await startDnsmasq({
      hosts: { 'a.cluster.test': ['127.0.0.2'], 'b.cluster.test': ['127.0.0.3'] },
      srv: [
        { name: '_hearsay._udp.cluster.test', target: 'a.cluster.test', port: a.address.port, priority: 10, weight: 5 },
        { name: '_hearsay._udp.cluster.test', target: 'b.cluster.test', port: b.address.port, priority: 20, weight: 5 },
      ],
    });
    const c = await start('srv-c', { bind: '127.0.0.1:0', dnsServers: [dnsmasq.server] });
    await expect(c.join(['dns+srv:_hearsay._udp.cluster.test'])).resolves.toBe(2);
    await waitFor('all three alive everywhere', converged([a, b, c]));
  });

  it('follows a seed whose record moves to another address while the node is isolated', async () => {
    const first = await start('first', { bind: '127.0.0.2:0' });
    const port = first.address.port;
    dnsmasq = await startDnsmasq({ hosts: { 'seed.test': ['127.0.0.2'] } });
    const node = await start('node', { bind: '127.0.0.1:0', dnsServers: [dnsmasq.server], join: [`seed.test:${port}`] });
    await waitFor('first and node alive on both', converged([first, node]));
    // The seed moves: a new machine takes the name, at the same port.
    const moved = await start('moved', { bind: `127.0.0.3:${port}` });
    await first.shutdown();
    await dnsmasq.setHosts({ 'seed.test': ['127.0.0.3'] });
    await waitFor('node to find itself alone', () => node.member('first')?.status === 'failed');
    await waitFor('node to rejoin through the moved seed', converged([moved, node]), { timeoutMs: REJOIN_BOUND_MS });
    expect(node.stats.seeds.rejoins).toBeGreaterThanOrEqual(1);
  });

  it('names an unknown name in the JoinError, and an unknown bind name in an OptionError', async () => {
    dnsmasq = await startDnsmasq({ hosts: { 'seed.test': ['127.0.0.2'] } });
    const dnsServers = [dnsmasq.server];
    const error = await createNode({
      name: 'lost',
      bind: '127.0.0.1:0',
      config: FAST,
      dnsServers,
      join: ['missing.test:7946', 'dns+srv:_none._udp.cluster.test'],
    }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(JoinError);
    expect((error as JoinError).errors).toEqual([
      'missing.test:7946: missing.test does not resolve (ENOTFOUND)',
      'dns+srv:_none._udp.cluster.test: no SRV records (ENOTFOUND)',
    ]);
    expect((error as Error).message).toMatch(/^no seed could be reached: missing\.test:7946: missing\.test does not resolve \(ENOTFOUND\)/);
    await expect(createNode({ name: 'nowhere', bind: 'missing.test:0', dnsServers })).rejects.toThrow(
      /"missing\.test:0" is not an address: bind names missing\.test, which does not resolve \(ENOTFOUND\)/,
    );
  });

  it('joins an IPv6 node by a name with an AAAA record', async () => {
    const a = await start('aaaa-a', { bind: '[::1]:0' });
    dnsmasq = await startDnsmasq({ hosts: { 'six.test': ['::1'] } });
    const b = await start('aaaa-b', { bind: '[::1]:0', dnsServers: [dnsmasq.server], join: [`six.test:${a.address.port}`] });
    await waitFor('both alive on both', converged([a, b]));
  });

  it('binds and advertises by name, taking the first address', async () => {
    dnsmasq = await startDnsmasq({ hosts: { 'self.test': ['127.0.0.4'], 'public.test': ['127.0.0.5', '127.0.0.6'] } });
    const node = await start('named', { bind: 'self.test:0', advertise: 'public.test', dnsServers: [dnsmasq.server] });
    expect(node.address.host).toBe('127.0.0.4');
    expect(node.advertised).toEqual({ host: '127.0.0.5', port: node.address.port });
  });
});
