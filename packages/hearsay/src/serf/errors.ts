import { HearsayError } from '../core/errors.js';

/** A query answer that cannot be sent: a second answer, past the deadline, or too large. */
export class QueryError extends HearsayError {
  /** `'QueryError'`, as the error prints. */
  override name = 'QueryError';
}
