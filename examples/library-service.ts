/**
 * A small service cluster with the library: three nodes on 127.0.0.1 join one another, print
 * their membership events, see each other's tags, pass a user event around, ask a query that
 * the other two answer, and finally one of them leaves gracefully before all shut down.
 */
import { createNode, type HearsayNode, type Member } from 'hearsay';

/** The 'local' profile's short timers keep the run to a few seconds on one machine. */
const COMMON = { bind: '127.0.0.1:0', profile: 'local' } as const;

function describeTags(member: Member): string {
  return Object.entries(member.tags)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

/** Prints every membership event and user event a node sees, prefixed with its name. */
function watch(node: HearsayNode): void {
  for (const type of ['join', 'update', 'suspect', 'alive', 'failed', 'left'] as const) {
    node.on(type, (member) => console.log(`[${node.name}] ${type} ${member.name} (${member.address}:${member.port}) ${describeTags(member)}`));
  }
  node.on('message', (payload, name) => console.log(`${node.name} received event "${name}": ${Buffer.from(payload).toString()}`));
}

/** Polls until `check` holds: gossip takes a few rounds to reach everyone. */
async function waitFor(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`gave up after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Listeners go on before joining, so that no membership event is missed.
const alpha = await createNode({ ...COMMON, name: 'alpha', tags: { role: 'api' } });
const beta = await createNode({ ...COMMON, name: 'beta', tags: { role: 'api' } });
const gamma = await createNode({ ...COMMON, name: 'gamma', tags: { role: 'worker' } });
const nodes = [alpha, beta, gamma];
for (const node of nodes) watch(node);
const seed = `${alpha.address.host}:${alpha.address.port}`;
console.log(`alpha listens on ${seed}; beta and gamma join through it`);
await beta.join([seed]);
await gamma.join([seed]);

const aliveNames = (node: HearsayNode) =>
  node
    .members()
    .filter((member) => member.status === 'alive')
    .map((member) => member.name)
    .sort();
await waitFor('three members alive everywhere', () => nodes.every((node) => aliveNames(node).length === 3));
for (const node of nodes) console.log(`${node.name} sees ${aliveNames(node).length} alive: ${aliveNames(node).join(', ')}`);

// Tags travel in the node's meta: the others get an 'update' event.
gamma.setTags({ role: 'worker', version: '2' });
await waitFor("gamma's new tags everywhere", () => [alpha, beta].every((node) => node.member('gamma')?.tags.version === '2'));
for (const node of [alpha, beta]) console.log(`${node.name} sees gamma's tags: ${describeTags(node.member('gamma')!)}`);

// A user event is gossiped to every other member (the sender does not receive its own).
const received = new Set<string>();
for (const node of [alpha, gamma]) node.on('message', () => received.add(node.name));
beta.broadcast(Buffer.from('v2'), 'deploy');
await waitFor('the deploy event at alpha and gamma', () => received.size === 2);

// A query reaches every member; here only beta and gamma answer, each with its role.
for (const node of [beta, gamma]) {
  node.on('query', (query) => {
    if (query.name === 'role') query.respond(Buffer.from(node.self.tags.role ?? 'none'));
  });
}
const { responses } = await alpha.query('role', undefined, { timeoutMs: 3000, expectedResponses: 2 });
const answers = responses.map(({ from, payload }) => `${from}=${Buffer.from(payload).toString()}`).sort();
console.log(`query "role" answered by ${answers.length}: ${answers.join(', ')}`);

// A graceful leave: the others mark gamma left, not failed.
await gamma.leave();
await waitFor('gamma left everywhere', () => [alpha, beta].every((node) => node.member('gamma')?.status === 'left'));
for (const node of [alpha, beta]) console.log(`${node.name} saw gamma leave`);
await Promise.all(nodes.map((node) => node.shutdown()));
console.log('all nodes shut down');
