import type { HearsayNode } from 'hearsay';

/** Whether the agent is ready for a load balancer or a Kubernetes readiness probe, and if not, why. */
export interface Readiness {
  readonly ready: boolean;
  /** What keeps it from being ready; empty when it is. */
  readonly reasons: string[];
}

/** What readiness depends on beyond the node itself. */
export interface ReadinessRules {
  /** The agent was told to find a cluster (join, retry-join, discovery or rejoin): until it has, it is not ready. */
  readonly seeksCluster: boolean;
  /** Lifeguard's highest local health score (awarenessMaxMultiplier − 1): at it, every probe this node sends goes unanswered. */
  readonly maxHealthScore: number;
}

/**
 * Ready when joined and healthy: some other member is alive (or the agent was given nothing to
 * join, a cluster of one by design), and the local health score is below its maximum (a node
 * whose own probes all fail is more likely cut off than its peers dead).
 */
export function readinessOf(node: HearsayNode, rules: ReadinessRules): Readiness {
  const reasons: string[] = [];
  const joined = node.members().some((member) => member.name !== node.name && (member.status === 'alive' || member.status === 'suspect'));
  if (rules.seeksCluster && !joined) reasons.push('not joined: no other member is alive yet');
  const { healthScore } = node.stats;
  if (rules.maxHealthScore > 0 && healthScore >= rules.maxHealthScore)
    reasons.push(`unhealthy: local health score ${healthScore} is at its maximum (its probes go unanswered)`);
  return { ready: reasons.length === 0, reasons };
}
