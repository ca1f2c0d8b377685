/** The sans-I/O protocol core: state machines with typed inputs and outputs, no I/O. */
export * from './types.js';
export { isNewer, isAtLeast, nextIncarnation } from './serial.js';
export * from './errors.js';
export { PROFILES, CONFIG_KEYS, resolveConfig, isProfileName, type ProtocolConfig, type ProfileName } from './config.js';
export { MemberNode, DEFAULT_VSN, type MemberNodeOptions } from './node.js';
export { startingIncarnation } from './restart.js';
export { Registry, MemberTable } from './member-table.js';
export { createRandom, deriveSeed } from './random.js';
export { memberlistSize, compoundOverhead, streamSize } from './message-size.js';
export { retransmitLimit } from './broadcast-queue.js';
export { minSuspicionTimeout, expectedConfirmations, suspicionTimeout } from './suspicion.js';
export { pushPullScale } from './push-pull.js';
export type { CoreStats } from './stats.js';
export { countDrop } from './stats.js';
export { PhiAccrual, phiOf, elapsedForPhi, PHI_DEFAULTS, type PhiAccrualOptions } from './phi-accrual.js';
export { HeartbeatDetector, splitHeartbeats } from './heartbeat.js';
export { heartbeatEntrySize, heartbeatsOverhead } from './message-size.js';
