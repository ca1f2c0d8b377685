/**
 * Faults by nftables inside a host's namespace (`tc netem` is not available on this kernel):
 * random loss of what arrives (`numgen random`), addresses it must not hear from or send to
 * (partitions, one-way loss, a flapping link), and a counter of the packets it sends. Each
 * change is one `nft` transaction inside the host's namespace.
 */
import { execFile } from 'node:child_process';
import type { Host } from './namespaces.js';

/** The ruleset each host starts with: no loss, nothing blocked, packets sent counted. */
const BASE_RULESET = `
table inet chaos {
  counter sent { }
  set deaf_to { type ipv4_addr; }
  set mute_to { type ipv4_addr; }
  chain input {
    type filter hook input priority 0; policy accept;
    iifname "eth0" ip saddr @deaf_to drop
  }
  chain output {
    type filter hook output priority 0; policy accept;
    oifname "eth0" ip daddr @mute_to drop
    oifname "eth0" counter name "sent"
  }
}
`;

/** `nft -f -` inside the host's namespace, with `script` on stdin. */
function nft(host: Host, script: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile('ip', ['netns', 'exec', host.namespace, 'nft', '-f', '-'], (error, stdout, stderr) => {
      if (error) reject(new Error(`nft in ${host.namespace}: ${stderr.trim() || error.message}\n${script}`));
      else resolve(stdout);
    });
    child.stdin!.end(script);
  });
}

/** A host's nftables: what the lab does to its traffic. */
export class HostFaults {
  readonly host: Host;

  private constructor(host: Host) {
    this.host = host;
  }

  static async install(host: Host): Promise<HostFaults> {
    await nft(host, `flush ruleset\n${BASE_RULESET}`);
    return new HostFaults(host);
  }

  /** Drops this share (0 … 1) of every packet arriving on the link, UDP and TCP alike, at random. */
  async setLoss(share: number): Promise<void> {
    const perMille = Math.round(share * 1000);
    const rule = perMille > 0 ? `add rule inet chaos input iifname "eth0" numgen random mod 1000 < ${perMille} drop\n` : '';
    // The input chain is rebuilt: its first rule (the deaf set) stays, any earlier loss rule goes.
    await nft(this.host, `flush chain inet chaos input\nadd rule inet chaos input iifname "eth0" ip saddr @deaf_to drop\n${rule}`);
  }

  /** Stops hearing from these addresses (they may still hear this host). */
  deafTo(addresses: readonly string[]): Promise<string> {
    return addresses.length === 0 ? Promise.resolve('') : nft(this.host, `add element inet chaos deaf_to { ${addresses.join(', ')} }\n`);
  }

  /** Stops sending to these addresses (this host still hears them). */
  muteTo(addresses: readonly string[]): Promise<string> {
    return addresses.length === 0 ? Promise.resolve('') : nft(this.host, `add element inet chaos mute_to { ${addresses.join(', ')} }\n`);
  }

  /** Hears from and sends to everyone again. */
  heal(): Promise<string> {
    return nft(this.host, 'flush set inet chaos deaf_to\nflush set inet chaos mute_to\n');
  }

  /** Packets this host has sent on its link so far. */
  async packetsSent(): Promise<number> {
    const text = await nft(this.host, 'list counter inet chaos sent\n');
    const packets = /packets (\d+)/.exec(text)?.[1];
    if (packets === undefined) throw new Error(`no packet count in ${this.host.namespace}: ${text}`);
    return Number(packets);
  }
}
