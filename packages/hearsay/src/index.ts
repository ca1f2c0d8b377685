/**
 * hearsay: cluster membership and failure detection by gossip. `createNode` starts a member on
 * the real network; the node, its events and its errors are typed here. The layers underneath
 * have entries of their own: `hearsay/core` (the sans-I/O protocol), `hearsay/serf` (Serf's
 * layer over it), `hearsay/wire` (memberlist's and Serf's wire format) and `hearsay/sim` (the
 * simulator).
 */
export {
  createNode,
  HearsayNode,
  BindError,
  JoinError,
  LiveMemberError,
  NameConflictError,
  ShutdownError,
  UnknownMemberError,
  type Member,
  type MemberVersions,
  type VersionRange,
  type NameConflict,
  type NodeOptions,
  type NodeStats,
  type HearsayNodeEvents,
  type QueryResult,
  type TrafficStats,
  type UserEventInfo,
} from './runtime/index.js';
export type { VerdictRecord, VerdictOutcome, ProbeEvidence, HeartbeatEvidence, Confirmation, HelperAnswer, ViewSummary } from './core/index.js';
export {
  IncomingQuery,
  type ConflictTally,
  type QueryOptions,
  type KeyOperationResult,
  type SerfStats,
  type SerfClocks,
  type Coordinate,
} from './serf/index.js';
export { PROTOCOLS, type Protocol, type ProfileName, type ProtocolConfig, type Status, type Address, type CoreStats } from './core/index.js';
export { HearsayError, ConfigError, OptionError } from './core/errors.js';
export { QueryError } from './serf/errors.js';
export { WireError } from './wire/errors.js';
