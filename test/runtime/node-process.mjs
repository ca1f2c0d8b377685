// A hearsay node in its own process, for the real-network tests: started with a JSON options
// argument, it prints one JSON line per fact on stdout ({"ready":…}, {"event":…}) and answers
// "members" on stdin with {"members":[…]}. "busy MS" stalls its event loop (a busy loop) that long.
// It leaves on "leave" and exits on "exit" or stdin's end.
import { createInterface } from 'node:readline';
import { createNode } from '../../packages/hearsay/dist/index.js';

const options = JSON.parse(process.argv[2] ?? '{}');
const print = (fact) => process.stdout.write(`${JSON.stringify(fact)}\n`);
const node = await createNode(options);
for (const type of ['join', 'update', 'suspect', 'alive', 'failed', 'left']) {
  node.on(type, (member) => print({ event: type, name: member.name, incarnation: member.incarnation }));
}
print({ ready: true, name: node.name, port: node.address.port, pid: process.pid });
const lines = createInterface({ input: process.stdin });
lines.on('line', async (line) => {
  if (line === 'members') print({ members: node.members().map(({ name, status, incarnation }) => ({ name, status, incarnation })) });
  if (line === 'stats') print({ stats: node.stats });
  if (line.startsWith('busy ')) {
    // An overloaded process: nothing else runs, timers and sockets alike wait.
    const until = Date.now() + Number(line.slice(5));
    while (Date.now() < until) {}
    print({ busy: true });
  }
  if (line === 'leave') {
    await node.leave(5000).catch((error) => print({ error: error.message }));
    print({ left: true });
  }
  if (line === 'exit') {
    await node.shutdown();
    process.exit(0);
  }
});
lines.on('close', async () => {
  await node.shutdown();
  process.exit(0);
});
