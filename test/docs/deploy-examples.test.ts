/**
 * The example files in deploy/ against the CLI: every `hearsay agent` command line in them is one
 * the agent's own parser accepts (flags and values), the YAML parses, and the ports, names and
 * seeds agree from one file to the other (the Service, the StatefulSet, the Dockerfile, the unit).
 */
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentCommand } from '../../packages/agent/src/cli/agent-command.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');
const GOSSIP_PORT = 7946;
/** The agent's default HTTP port: the gossip port + 10000, on loopback. */
const HTTP_PORT = GOSSIP_PORT + 10_000;

/** What `hearsay agent ARGS` parses to, through the agent's own commander definition (nothing started). */
async function parseAgentArgs(args: string[]): Promise<Record<string, unknown>> {
  const command = agentCommand()
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: () => undefined });
  let parsed: Record<string, unknown> | undefined;
  command.action((flags: Record<string, unknown>) => {
    parsed = flags;
  });
  await command.parseAsync(args, { from: 'user' });
  return parsed!;
}

/** `--flag=value` and `--flag value` alike, as {flag: [values]}. */
function flagValues(args: string[]): Map<string, string[]> {
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) continue;
    const eq = arg.indexOf('=');
    const [flag, value] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, args[i + 1]?.startsWith('--') ? '' : (args[++i] ?? '')];
    flags.set(flag, [...(flags.get(flag) ?? []), value]);
  }
  return flags;
}

/** The parts of the manifests the checks read. */
interface Metadata {
  readonly name: string;
  readonly namespace: string;
  readonly labels: Record<string, string>;
}
interface ServicePort {
  readonly name: string;
  readonly protocol: string;
  readonly port: number;
  readonly targetPort: number;
}
interface Container {
  readonly args: string[];
  readonly env: { name: string; valueFrom: { fieldRef: { fieldPath: string } } }[];
  readonly ports: { containerPort: number; protocol: string }[];
  readonly livenessProbe: { exec: { command: string[] } };
  readonly readinessProbe: { exec: { command: string[] } };
  readonly volumeMounts: { name: string; mountPath: string }[];
}
interface Service {
  readonly kind: 'Service';
  readonly metadata: Metadata;
  readonly spec: { clusterIP: string; publishNotReadyAddresses: boolean; selector: Record<string, string>; ports: ServicePort[] };
}
interface StatefulSet {
  readonly kind: 'StatefulSet';
  readonly metadata: Metadata;
  readonly spec: {
    serviceName: string;
    template: { metadata: { labels: Record<string, string> }; spec: { terminationGracePeriodSeconds: number; containers: Container[] } };
    volumeClaimTemplates: { metadata: { name: string } }[];
  };
}

const portOf = (address: string) => Number(address.slice(address.lastIndexOf(':') + 1));

it('the check refuses what the agent refuses', async () => {
  await expect(parseAgentArgs(['--no-such-flag'])).rejects.toThrow(/unknown option '--no-such-flag'/);
  await expect(parseAgentArgs(['--retry-interval', '30'])).rejects.toThrow(/"30" has no unit/);
});

describe('deploy/systemd/hearsay.service', () => {
  const unit = read('deploy/systemd/hearsay.service');
  const directive = (name: string) => new RegExp(`^${name}=(.*)$`, 'm').exec(unit)?.[1];
  const execStart = /^ExecStart=((?:.*\\\n)*.*)$/m.exec(unit)![1]!.replace(/\\\n/g, ' ');
  const [bin, subcommand, ...args] = execStart.trim().split(/\s+/);

  it('runs the bin itself with flags the agent accepts', async () => {
    expect(bin).toMatch(/node_modules\/\.bin\/hearsay$/);
    expect(subcommand).toBe('agent');
    await parseAgentArgs(args);
    expect(portOf(flagValues(args).get('--bind')![0]!)).toBe(GOSSIP_PORT);
  });

  it('keeps its state where systemd made the state directory, and stops by SIGTERM in time for a graceful leave', () => {
    expect(flagValues(args).get('--data-dir')).toEqual([`/var/lib/${directive('StateDirectory')}`]);
    expect(directive('KillSignal')).toBe('SIGTERM');
    expect(Number.parseInt(directive('TimeoutStopSec')!, 10)).toBeGreaterThan(5);
    expect(directive('Restart')).toBe('on-failure');
    expect(directive('DynamicUser')).toBe('yes');
  });
});

describe('deploy/container/Dockerfile', () => {
  const dockerfile = read('deploy/container/Dockerfile');
  const json = (instruction: string) => JSON.parse(new RegExp(`^${instruction} (\\[.*\\])$`, 'm').exec(dockerfile)![1]!) as string[];

  it('starts the agent with flags it accepts, as a user of its own, exposing the gossip port', async () => {
    const [subcommand, ...args] = json('CMD');
    expect(subcommand).toBe('agent');
    await parseAgentArgs(args);
    expect(json('ENTRYPOINT')).toEqual(['/opt/hearsay/node_modules/.bin/hearsay']);
    expect(portOf(flagValues(args).get('--bind')![0]!)).toBe(GOSSIP_PORT);
    expect(dockerfile).toMatch(new RegExp(`^EXPOSE ${GOSSIP_PORT}/udp ${GOSSIP_PORT}/tcp$`, 'm'));
    expect(dockerfile).toMatch(/^USER node$/m);
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
  });

  it('checks its health on the API the agent serves by default', () => {
    expect(dockerfile).toMatch(new RegExp(`HEALTHCHECK [^]*http://127\\.0\\.0\\.1:${HTTP_PORT}/v1/self`));
  });
});

describe('deploy/kubernetes', () => {
  const documents = ['service.yaml', 'statefulset.yaml'].flatMap((file) =>
    parseAllDocuments(read(`deploy/kubernetes/${file}`)).map((document) => {
      expect(document.errors, file).toEqual([]);
      return document.toJS() as Service | StatefulSet;
    }),
  );
  const service = documents.find((document): document is Service => document.kind === 'Service')!;
  const statefulSet = documents.find((document): document is StatefulSet => document.kind === 'StatefulSet')!;
  const container = statefulSet.spec.template.spec.containers[0]!;
  const [subcommand, ...args] = container.args;
  const flags = flagValues(args);

  it('parse as one headless Service and one StatefulSet in the same namespace', () => {
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.publishNotReadyAddresses).toBe(true);
    expect(statefulSet.spec.serviceName).toBe(service.metadata.name);
    expect(statefulSet.metadata.namespace).toBe(service.metadata.namespace);
    expect(statefulSet.spec.template.metadata.labels).toMatchObject(service.spec.selector);
  });

  it('run the agent with flags it accepts', async () => {
    expect(subcommand).toBe('agent');
    await parseAgentArgs(args);
  });

  it('join through the headless Service by its DNS name, at the gossip port it serves', () => {
    const { name, namespace } = service.metadata;
    const [seed] = flags.get('--retry-join')!;
    expect(seed).toBe(`${name}.${namespace}.svc.cluster.local:${GOSSIP_PORT}`);
    const { ports } = service.spec;
    expect(ports.map((port) => [port.protocol, port.port, port.targetPort]).sort()).toEqual([
      ['TCP', GOSSIP_PORT, GOSSIP_PORT],
      ['UDP', GOSSIP_PORT, GOSSIP_PORT],
    ]);
    // The SRV form the comment offers names the Service's UDP port.
    const srv = /dns\+srv:_([\w-]+)\._udp\.([\w.-]+)/.exec(read('deploy/kubernetes/statefulset.yaml'))!;
    expect(ports.find((port) => port.name === srv[1])?.protocol).toBe('UDP');
    expect(srv[2]).toBe(`${name}.${namespace}.svc.cluster.local`);
  });

  it('advertise the pod IP from the downward API, bind and expose the gossip port, and probe the default HTTP port', () => {
    expect(flags.get('--advertise')).toEqual([`$(POD_IP):${GOSSIP_PORT}`]);
    expect(flags.get('--name')).toEqual(['$(POD_NAME)']);
    const env = Object.fromEntries(container.env.map((e) => [e.name, e.valueFrom.fieldRef.fieldPath]));
    expect(env).toEqual({ POD_IP: 'status.podIP', POD_NAME: 'metadata.name' });
    expect(portOf(flags.get('--bind')![0]!)).toBe(GOSSIP_PORT);
    expect(container.ports.map((port) => `${port.containerPort}/${port.protocol}`).sort()).toEqual([`${GOSSIP_PORT}/TCP`, `${GOSSIP_PORT}/UDP`]);
    for (const probe of [container.livenessProbe, container.readinessProbe])
      expect(probe.exec.command.join(' ')).toContain(`http://127.0.0.1:${HTTP_PORT}/v1/self`);
  });

  it('keep each pod’s state on its own volume, where --data-dir points', () => {
    const mount = container.volumeMounts[0]!;
    expect(flags.get('--data-dir')).toEqual([mount.mountPath]);
    expect(statefulSet.spec.volumeClaimTemplates[0]?.metadata.name).toBe(mount.name);
    expect(statefulSet.spec.template.spec.terminationGracePeriodSeconds).toBeGreaterThan(5);
  });
});
