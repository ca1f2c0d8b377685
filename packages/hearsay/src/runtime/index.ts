/** The real-network driver and the library API built on it. */
export { createNode } from './create-node.js';
export { HearsayNode } from './node.js';
export type { Member, NodeOptions, NodeStats, HearsayNodeEvents, QueryResult } from './types.js';
export { BindError, JoinError, ShutdownError } from './errors.js';
export { OptionError } from '../core/errors.js';
export { IncomingQuery, QueryError, type QueryOptions, type SerfStats, type KeyOperationResult } from '../serf/index.js';
export { parseAddress, formatAddress } from './address.js';
export { decodeKey } from './encryption-key.js';
export type { TrafficStats } from './traffic.js';
export { PROTOCOLS, type Protocol } from '../core/index.js';
