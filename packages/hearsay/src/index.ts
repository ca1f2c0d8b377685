/**
 * hearsay's public API: `createNode` for a member on the real network, the sans-I/O protocol
 * core it drives, the memberlist wire codec, and the simulator.
 */
export * from './runtime/index.js';
export {
  MemberNode,
  resolveConfig,
  createRandom,
  deriveSeed,
  DEFAULT_VSN,
  PROFILES,
  CONFIG_KEYS,
  HearsayError,
  ConfigError,
  Registry,
  memberlistSize,
  streamSize,
  minSuspicionTimeout,
  expectedConfirmations,
  suspicionTimeout,
  retransmitLimit,
  pushPullScale,
  type SwimConfig,
  type ProfileName,
  type Address,
  type MemberProfile,
  type Member as CoreMember,
  type MemberEvent,
  type MemberEventType,
  type Message,
  type StreamMessage,
  type Input,
  type Output,
  type Random,
  type Status,
  type CoreStats,
  type MemberNodeOptions,
} from './core/index.js';
export * from './sim/index.js';
