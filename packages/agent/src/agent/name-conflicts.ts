import { type HearsayNode, NameConflictError } from 'hearsay';
import { formatAddress } from 'hearsay/wire';
import type { Logger } from 'pino';

/**
 * Serf's agent on a conflict about its own name: asks the cluster who holds the name
 * (`_serf_conflict`) and, when most answers name another address, stops with a NameConflictError
 * (the agent exits 1) rather than fight over the name. One resolution at a time; conflicts about
 * other members are the node's warnings already.
 */
export function watchNameConflicts(node: HearsayNode, log: Logger, stop: (error: NameConflictError) => Promise<void>): void {
  let resolving = false;
  node.on('conflict', (conflict) => {
    if (conflict.name !== node.name || resolving) return;
    resolving = true;
    const claimed = { host: conflict.claimed.address, port: conflict.claimed.port };
    log.warn({ claimed: formatAddress(claimed) }, `another node claims this node's name ${node.name}: asking the cluster who holds it`);
    node
      .resolveConflict()
      .then(async ({ matching, total, keep }) => {
        resolving = false;
        if (keep) {
          log.info({ matching, total }, `name conflict resolved: the cluster holds ${node.name} here`);
          return;
        }
        const error = new NameConflictError(
          `name conflict: ${total - matching} of ${total} answers hold ${node.name} at another address (only ${matching} here): shutting down, as Serf does; restart under another name`,
          claimed,
        );
        log.error({ matching, total, claimed: formatAddress(claimed) }, error.message);
        await stop(error);
      })
      .catch((error: Error) => {
        resolving = false;
        log.warn({ err: error.message }, 'name conflict: could not ask the cluster');
      });
  });
}
