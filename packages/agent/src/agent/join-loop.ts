import type { Logger } from 'pino';
import { JoinError, NameConflictError, type HearsayNode } from 'hearsay';
import { formatAddress } from 'hearsay/wire';

/** How one list of seeds is tried: `--join` backs off and never gives up, `--retry-join` keeps Serf's interval and count. */
export interface JoinPolicy {
  /** Prefixes what the loop logs, so that the two loops of one agent can be told apart. */
  readonly label: string;
  /** The wait before retry `attempt` (0: the first retry). */
  readonly waitMs: (attempt: number) => number;
  /** Retries after the first attempt before giving up; Infinity: never give up. */
  readonly maxRetries: number;
}

export interface JoinLoopContext {
  readonly node: HearsayNode;
  readonly log: Logger;
  /** False once the agent is stopping: the loop ends quietly. */
  readonly running: () => boolean;
  /** Stops the agent for a reason no retry can mend. */
  readonly giveUp: (error: Error) => Promise<void>;
}

/**
 * Joins through `seeds` in the background until one answers. A seed nobody answers is retried as
 * the policy says; another live node holding this name, a seed the library cannot read, or the
 * retries running out stop the agent, since waiting longer mends none of them.
 */
export async function joinUntilAnswered(seeds: readonly string[], policy: JoinPolicy, context: JoinLoopContext): Promise<void> {
  const { node, log, running, giveUp } = context;
  for (let attempt = 0; running(); attempt++) {
    try {
      const contacted = await node.join([...seeds]);
      log.info({ seeds, contacted }, `${policy.label}joined the cluster`);
      return;
    } catch (error) {
      if (!running()) return;
      if (error instanceof NameConflictError) {
        // As Serf: give the name up rather than fight over it.
        log.error({ claimedBy: formatAddress(error.claimedBy) }, error.message);
        return giveUp(error);
      }
      if (!(error instanceof JoinError)) {
        log.error({ seeds, err: (error as Error).message }, `${policy.label}cannot join these seeds, giving up`);
        return giveUp(error as Error);
      }
      if (attempt >= policy.maxRetries) {
        const failure = new JoinError(
          `${policy.label}no seed of ${seeds.join(', ')} answered in ${attempt + 1} attempts (--retry-max ${policy.maxRetries}): giving up`,
          error.errors,
        );
        log.error({ seeds, attempts: attempt + 1, err: error.message }, failure.message);
        return giveUp(failure);
      }
      const wait = policy.waitMs(attempt);
      log.warn({ seeds, retryInMs: wait, err: error.message }, `${policy.label}no seed answered, retrying`);
      await new Promise((resolve) => setTimeout(resolve, wait).unref());
    }
  }
}
