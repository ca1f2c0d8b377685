/** The real-network driver and the library API built on it. */
export { createNode, HearsayNode, type Member, type NodeOptions, type NodeStats, type HearsayNodeEvents, type QueryResult } from './node.js';
export { BindError, JoinError, QueryError, ShutdownError } from './errors.js';
export { OptionError } from '../core/errors.js';
export { IncomingQuery, type QueryOptions, type SerfStats } from './serf-layer.js';
export type { KeyOperationResult } from './key-results.js';
export { parseAddress, formatAddress } from './address.js';
export { decodeKey } from './encryption-key.js';
export type { TrafficStats } from './traffic.js';
export { PROTOCOLS, type Protocol } from '../core/index.js';
