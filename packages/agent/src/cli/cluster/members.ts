import { Command } from 'commander';
import { memberSummary } from './api.js';
import { failing } from './failure.js';
import { clusterTables } from './render.js';
import { byName, findNode, hearsayHome, requireState } from './state.js';
import { fetchViews } from './views.js';

export function clusterMembersCommand(): Command {
  return new Command('members')
    .description("every node's view of the membership, one table per node (a node that is down shown as down)")
    .option('--node <name>', 'only this node’s view')
    .option('--json', 'print [{"node", "up", "members": [{name, address, port, status, incarnation, tags}]}]')
    .action(
      failing(async (flags: { node?: string; json?: boolean }) => {
        const state = requireState(hearsayHome());
        const nodes = flags.node === undefined ? state.nodes : [findNode(state, flags.node)];
        const views = await fetchViews(nodes);
        if (flags.json) {
          const out = views.map((v) => ({ node: v.node, up: v.up, members: [...v.members].sort((a, b) => byName(a.name, b.name)).map(memberSummary) }));
          process.stdout.write(`${JSON.stringify(out)}\n`);
        } else {
          process.stdout.write(clusterTables(views));
        }
      }),
    );
}
