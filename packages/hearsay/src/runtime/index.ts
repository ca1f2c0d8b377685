/** The real-network driver and the library API built on it (published as the package's main entry, src/index.ts). */
export { createNode } from './create-node.js';
export { HearsayNode } from './node.js';
export type { Member, MemberVersions, VersionRange, NameConflict, NodeOptions, NodeStats, HearsayNodeEvents, QueryResult, UserEventInfo } from './types.js';
export type { TrafficStats } from './traffic.js';
export { BindError, JoinError, LiveMemberError, NameConflictError, ShutdownError, UnknownMemberError } from './errors.js';
