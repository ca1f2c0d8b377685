import { HearsayError } from 'hearsay/core';

/**
 * A mistake in the command line that the CLI itself finds, beyond what commander parses (a node
 * the local cluster does not have, ports past 65535): printed without a stack, exit code 2.
 */
export class UsageError extends HearsayError {
  override name = 'UsageError';
}
