/** The real-network driver and the library API built on it (published as the package's main entry, src/index.ts). */
export { createNode } from './create-node.js';
export { HearsayNode } from './node.js';
export type { Member, NameConflict, NodeOptions, NodeStats, HearsayNodeEvents, QueryResult } from './types.js';
export type { TrafficStats } from './traffic.js';
export { BindError, JoinError, NameConflictError, ShutdownError } from './errors.js';
