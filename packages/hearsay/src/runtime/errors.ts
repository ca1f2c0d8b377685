import { HearsayError, type Address } from '../core/index.js';

/** The node could not listen where it was told to (the port is taken, the address is not this machine's); the message says what to change. */
export class BindError extends HearsayError {
  /** `'BindError'`, as the error prints. */
  override name = 'BindError';
}

/** None of the seeds could be reached or accepted the join. */
export class JoinError extends HearsayError {
  /** `'JoinError'`, as the error prints. */
  override name = 'JoinError';
  /** What went wrong with each seed, in the order they were tried. */
  readonly errors: readonly string[];
  /** A join failure with `message` to show and `errors`, what went wrong with each seed. */
  constructor(message: string, errors: readonly string[]) {
    super(message);
    this.errors = errors;
  }
}

/** The node was shut down before the operation finished, or before it was asked. */
export class ShutdownError extends HearsayError {
  /** `'ShutdownError'`, as the error prints. */
  override name = 'ShutdownError';
}

/**
 * Another node holds this node's name: a seed lists it alive (or suspect) at another address.
 * Start under another name, or once the other node has left or failed.
 */
export class NameConflictError extends HearsayError {
  /** `'NameConflictError'`, as the error prints. */
  override name = 'NameConflictError';
  /** Where the other holder of the name is, as the seed reported it. */
  readonly claimedBy: Address;
  /** A conflict with `message` to show, the name held at `claimedBy`. */
  constructor(message: string, claimedBy: Address) {
    super(message);
    this.claimedBy = claimedBy;
  }
}

/** No member of that name is known here (never seen, or already reaped). */
export class UnknownMemberError extends HearsayError {
  /** `'UnknownMemberError'`, as the error prints. */
  override name = 'UnknownMemberError';
}

/** The member is alive or suspect: only a failed (or left) member can be forced to leave; memberlist judges the live ones. */
export class LiveMemberError extends HearsayError {
  /** `'LiveMemberError'`, as the error prints. */
  override name = 'LiveMemberError';
}
