/** Serf's layer over memberlist, pure: Lamport clocks, user events, queries, key management, network coordinates. */
export { SerfMember, type SerfMemberOptions, type SerfReport, type StartedQuery } from './member.js';
export { DepartedMembers, type DepartedMember, type DepartedMembersOptions } from './departed.js';
export { CONFLICT_QUERY, ConflictAnswers, tallyConflictAnswers, type ConflictAnswer, type ConflictTally } from './conflict.js';
export { SerfLayer, type SerfArrival, type SerfEventArrival } from './layer.js';
export type { SerfStats } from './stats.js';
export { createSerfHost, isLive, type SerfHost, type SerfHostOptions } from './host.js';
export { IncomingQuery, type AskedQuery, type QueryCollector, type QueryOptions } from './queries.js';
export { checkQueryFilters } from './query-filters.js';
export { LamportClock } from './lamport.js';
export { MAX_USER_EVENT_BYTES } from './events.js';
export { QueryError } from './errors.js';
export { tallyKeyResponses, type KeyOperationResult } from './key-results.js';
export { tagsOf, metaFor } from './tags.js';
export { CoordinateTracker } from './coordinate-tracker.js';
export {
  DEFAULT_COORDINATE_CONFIG,
  MAX_RTT_SECONDS,
  MAX_COORDINATE_SECONDS,
  MAX_FILTERED_NODES,
  CoordinateClient,
  newCoordinate,
  cloneCoordinate,
  distanceBetween,
  isValidCoordinate,
  isCompatible,
  type CoordinateConfig,
  type CoordinateClientStats,
} from './coordinate.js';
export type { Coordinate } from '../wire/coordinate.js';
export {
  SnapshotReader,
  parseSnapshot,
  renderSnapshot,
  shouldCompact,
  writableName,
  aliveLine,
  notAliveLine,
  clockLines,
  LEAVE_LINE,
  MAX_SNAPSHOT_LINE,
  MAX_SNAPSHOT_MEMBERS,
  MAX_SNAPSHOT_WARNINGS,
  MIN_COMPACT_BYTES,
  type RestoredSnapshot,
  type SerfClocks,
} from './snapshot.js';
