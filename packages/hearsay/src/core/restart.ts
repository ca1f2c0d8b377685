/**
 * The incarnation a member starts a run with. Under heartbeat detection the incarnation is the
 * member's generation, and peers hold a failed generation dead until its tombstone expires: a
 * restarted member must start above every incarnation of its earlier runs, or it stays dead to
 * them. A clock that only grows does that without saved state; `previous`, when the driver knows
 * it, covers a restart the clock has not yet moved past.
 *
 * @param clock a reading of a clock that grows across restarts, in units small enough that it
 *   moves between them and large enough that it fits memberlist's uint32 (the runtime passes Unix
 *   seconds, good until 2106; the simulator virtual milliseconds)
 * @param previous the incarnation this member started its previous run with, if known
 */
export function startingIncarnation(clock: number, previous = 0): number {
  return Math.max(Math.floor(clock), previous + 1);
}
