import type { ProtocolConfig } from './config.js';
import type { NodeContext } from './context.js';
import { PhiAccrual } from './phi-accrual.js';
import type { TimerHandle } from './timers.js';

/**
 * How far a member's heartbeat may rise past the one held, in periods, beyond twice the periods
 * elapsed since (a sender twice as fast, and gossip that reached us late, stay well within).
 */
const HEARTBEAT_SLACK = 1000;

/** What this node knows of one member's heartbeat, for the member's current generation. */
export interface Track {
  /** The generation (table incarnation) this track is about; a different one resets it. */
  readonly generation: number;
  /** The highest heartbeat seen for that generation. */
  heartbeat: number;
  /** When `heartbeat` was taken; -Infinity until the first one (which may be anything). */
  heartbeatAt: number;
  /** Local time of the last sign of life: a rise of `heartbeat`, or a direct heartbeat. */
  risenAt: number;
  /** Phi accrual over those times, in phi mode only. */
  readonly phi: PhiAccrual | undefined;
  /** The scheduled check of this track's next deadline, if any. */
  timer: TimerHandle | undefined;
  /** When that check runs (Infinity: none scheduled). */
  timerAt: number;
}

/** A track for a generation first seen now: its silence counts from now. */
export function newTrack(config: ProtocolConfig, generation: number, now: number): Track {
  const phi = config.phiThreshold > 0 ? new PhiAccrual({ threshold: config.phiThreshold, firstHeartbeatEstimateMs: config.heartbeatIntervalMs }) : undefined;
  phi?.heartbeat(now);
  return { generation, heartbeat: 0, heartbeatAt: -Infinity, risenAt: now, phi, timer: undefined, timerAt: Infinity };
}

/**
 * Takes a higher heartbeat unless it runs further ahead than the member can have counted
 * since the last one: a forged 2^53 − 1 would otherwise leave the member's own heartbeats
 * below it for the rest of its generation, and it would be judged failed.
 */
export function takeHeartbeat(ctx: NodeContext, track: Track, heartbeat: number): boolean {
  if (heartbeat <= track.heartbeat) return false;
  const periods = (ctx.now - track.heartbeatAt) / ctx.config.heartbeatIntervalMs;
  if (heartbeat - track.heartbeat > HEARTBEAT_SLACK + 2 * periods) {
    ctx.drop('heartbeat-ahead');
    return false;
  }
  track.heartbeat = heartbeat;
  track.heartbeatAt = ctx.now;
  return true;
}

/** When a silent member turns suspect. Fixed: suspectAfterMs of silence. Phi: the first moment phi reaches the threshold. */
export function suspectAt(config: ProtocolConfig, track: Track): number {
  if (!track.phi) return track.risenAt + config.suspectAfterMs;
  return track.risenAt + track.phi.silenceToReach(config.phiThreshold);
}

/** When a suspect member fails. Fixed: failAfterMs of silence. Phi: phi at the threshold and failAfterMs of silence. */
export function failAt(config: ProtocolConfig, track: Track): number {
  const silent = track.risenAt + config.failAfterMs;
  return track.phi ? Math.max(silent, suspectAt(config, track)) : silent;
}
