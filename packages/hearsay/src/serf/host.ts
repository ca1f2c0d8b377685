import type { Address, Input, Member, MemberNode } from '../core/index.js';
import type { Keyring, SerfConflictMember } from '../wire/index.js';
import { tagsOf } from './tags.js';

/** What the Serf layer needs from the node it runs in. */
export interface SerfHost {
  /** This member's name. */
  readonly name: string;
  /** Where answers to this node's queries must be sent: its advertised address. */
  readonly address: Address;
  /** This member's tags now (decoded from its meta). */
  tags(): Readonly<Record<string, string>>;
  /** Sends a Serf message straight to an address, as a memberlist user message in one UDP packet. */
  sendTo(to: Address, payload: Uint8Array): void;
  /** Gossips a Serf message to every member (replacing an earlier one with the same key). */
  broadcast(key: string, payload: Uint8Array): void;
  /** Alive members other than this node: candidates to relay an answer. */
  peers(): readonly { name: string; address: Address }[];
  /** Whether a live member (this node included) is at this address: the only places answers and relays go. */
  isMemberAddress(address: Address): boolean;
  /** A member as a `_serf_conflict` answer describes it; undefined for a name unknown here (whose query answers are not taken). */
  member(name: string): SerfConflictMember | undefined;
  /** The keyring key queries change; undefined without encryption. */
  readonly keyring: Keyring | undefined;
  /** A key query changed the keyring. */
  keysChanged(): void;
  /** The state to send with every push/pull changed (Serf's user state: clocks and recent events). */
  setUserState(state: Uint8Array): void;
  /** The driver's clock (ms). */
  now(): number;
  /** Uniform in [0, 1). */
  random(): number;
}

/** What a driver gives the Serf layer of one member: its core and the way to reach it, the time and randomness. */
export interface SerfHostOptions {
  /** The member's protocol core, which the host reads the membership from. */
  readonly core: MemberNode;
  /** Steps an input into `core` at the current time (the driver then handles the outputs). */
  readonly step: (input: Input) => void;
  /** The driver's clock, in ms. */
  readonly now: () => number;
  /** Uniform in [0, 1): query IDs and the members answers are relayed through. */
  readonly random: () => number;
  /** The keyring key queries change; undefined without encryption. */
  readonly keyring: Keyring | undefined;
  /** A key query changed `keyring`. */
  readonly keysChanged: () => void;
}

/** Members alive or suspect, this node included: those that hear and answer queries. */
export function isLive(member: Member): boolean {
  return member.status === 'alive' || member.status === 'suspect';
}

/** The Serf layer's view of a member core: Serf's rules for who is a peer and how members look to a `_serf_conflict` query. */
export function createSerfHost({ core, step, now, random, keyring, keysChanged }: SerfHostOptions): SerfHost {
  return {
    name: core.name,
    address: { host: core.profile.host, port: core.profile.port },
    tags: () => tagsOf(core.member(core.name)!.meta),
    sendTo: (to, payload) => step({ kind: 'send', to, payload }),
    broadcast: (key, payload) => step({ kind: 'broadcast', key, payload }),
    peers: () =>
      core
        .members()
        .filter((member) => member.status === 'alive' && member.name !== core.name)
        .map((member) => ({ name: member.name, address: { host: member.host, port: member.port } })),
    isMemberAddress: (address) => core.members().some((member) => isLive(member) && member.port === address.port && member.host === address.host),
    member: (name) => {
      const member = core.member(name);
      if (!member) return undefined;
      // Serf's conflict answers know no suspicion: memberlist's suspect members are alive to Serf.
      const status = member.status === 'suspect' ? 'alive' : member.status;
      return { name, host: member.host, port: member.port, tags: tagsOf(member.meta), status, vsn: member.vsn };
    },
    keyring,
    keysChanged,
    setUserState: (state) => step({ kind: 'setUserState', state }),
    now,
    random,
  };
}
