import { Command } from 'commander';
import { memberSummary } from './api.js';
import { failing } from './failure.js';
import { clusterTables, viewsFooter } from './render.js';
import { byName, findNode, hearsayHome, requireState } from './state.js';
import { fetchViewDigests, fetchViews } from './views.js';

export function clusterMembersCommand(): Command {
  return new Command('members')
    .description("every node's view of the membership, one table per node (a node that is down shown as down)")
    .option('--node <name>', 'only this node’s view')
    .option('--json', 'print [{"node", "up", "members": [{name, address, port, status, incarnation, tags}], "view": {digest, distinct}}]')
    .action(
      failing(async (flags: { node?: string; json?: boolean }) => {
        const state = requireState(hearsayHome());
        const nodes = flags.node === undefined ? state.nodes : [findNode(state, flags.node)];
        // The view digests beside the lists, in parallel: whether the agents agree costs one more small request each.
        const [views, digests] = await Promise.all([fetchViews(nodes), fetchViewDigests(nodes)]);
        const digestOf = new Map(digests.map((d) => [d.node, d]));
        if (flags.json) {
          const out = views.map((v) => {
            const digest = digestOf.get(v.node);
            return {
              node: v.node,
              up: v.up,
              members: [...v.members].sort((a, b) => byName(a.name, b.name)).map(memberSummary),
              ...(v.up && digest ? { view: { digest: digest.digest, distinct: digest.distinct } } : {}),
            };
          });
          process.stdout.write(`${JSON.stringify(out)}\n`);
        } else {
          const footer = viewsFooter(digests.filter((d) => views.find((v) => v.node === d.node)?.up));
          process.stdout.write(`${clusterTables(views)}${footer ? `\n${footer}` : ''}`);
        }
      }),
    );
}
