/** The real-network driver and the library API built on it. */
export { createNode, HearsayNode, type Member, type NodeOptions, type NodeStats, type HearsayNodeEvents } from './node.js';
export { BindError, JoinError, OptionError, ShutdownError } from './errors.js';
export { parseAddress, formatAddress } from './address.js';
export type { TrafficStats } from './traffic.js';
export { PROTOCOLS, type Protocol } from '../core/index.js';
