import { HearsayError } from '../core/index.js';

/** The node could not listen where it was told to; the message says what to change. */
export class BindError extends HearsayError {
  override name = 'BindError';
}

/** None of the seeds could be reached or accepted the join. */
export class JoinError extends HearsayError {
  override name = 'JoinError';
  readonly errors: readonly string[];
  constructor(message: string, errors: readonly string[]) {
    super(message);
    this.errors = errors;
  }
}

/** An address, name, key or tag set the node cannot use. */
export class OptionError extends HearsayError {
  override name = 'OptionError';
}

/** The node was shut down before the operation finished. */
export class ShutdownError extends HearsayError {
  override name = 'ShutdownError';
}

/** A query answer that cannot be sent: a second answer, past the deadline, or too large. */
export class QueryError extends HearsayError {
  override name = 'QueryError';
}
