/** The HTTP control API, described for clients and served at GET /openapi.json. */
import { PROTOCOLS } from 'hearsay';

const member = {
  type: 'object',
  required: ['name', 'address', 'port', 'status', 'incarnation', 'tags', 'since'],
  properties: {
    name: { type: 'string' },
    address: { type: 'string', description: 'IP address' },
    port: { type: 'integer' },
    status: { type: 'string', enum: ['alive', 'suspect', 'failed', 'left'] },
    incarnation: { type: 'integer' },
    tags: { type: 'object', additionalProperties: { type: 'string' } },
    since: { type: 'string', format: 'date-time', description: 'last status change, as this node saw it' },
    rttMs: { type: 'number', description: 'smoothed round-trip time this node measured (SWIM probes, direct heartbeats); absent until measured' },
    versions: {
      type: 'object',
      description: 'the versions the member announces (serf members -detailed): memberlist protocol and Serf (delegate) protocol, each {min, max, current}',
      properties: { protocol: { $ref: '#/components/schemas/VersionRange' }, delegate: { $ref: '#/components/schemas/VersionRange' } },
    },
  },
} as const;

const versionRange = {
  type: 'object',
  required: ['min', 'max', 'current'],
  properties: { min: { type: 'integer' }, max: { type: 'integer' }, current: { type: 'integer', description: 'the version in use' } },
} as const;

const protocols = [...PROTOCOLS];
const protocolSwitch = {
  type: 'object',
  required: ['protocol', 'epoch', 'origin'],
  properties: {
    protocol: { type: 'string', enum: protocols },
    epoch: { type: 'integer', description: 'the switch in force; the highest (epoch, origin) wins cluster-wide; 0 is the detector the agent started with' },
    origin: { type: 'string', nullable: true, description: 'the node that asked for the switch; null at epoch 0' },
  },
} as const;

const count = { type: 'integer', minimum: 0 } as const;
const stats = {
  type: 'object',
  required: [
    'healthScore',
    'broadcastQueue',
    'probes',
    'probesFailed',
    'suspicions',
    'refutations',
    'failuresDeclared',
    'packetsIn',
    'packetsOut',
    'bytesIn',
    'bytesOut',
    'dropped',
  ],
  properties: {
    healthScore: { ...count, description: 'Lifeguard local health score (0 is healthy)' },
    broadcastQueue: { ...count, description: 'updates waiting to be gossiped' },
    probes: count,
    probesFailed: { ...count, description: 'probes that got no ack by their deadline' },
    suspicions: { ...count, description: 'suspicions raised here' },
    refutations: { ...count, description: 'times this node refuted a rumour about itself' },
    failuresDeclared: count,
    packetsIn: count,
    packetsOut: count,
    bytesIn: count,
    bytesOut: count,
    dropped: {
      ...count,
      description: 'packets, streams, messages, API requests and handler runs dropped, all layers and reasons (GET /metrics has them by layer and reason)',
    },
  },
} as const;

const eventRecord = {
  type: 'object',
  required: ['id', 'type', 'time', 'data'],
  properties: {
    id: { type: 'integer', minimum: 1, description: '1, 2, … in the order this agent saw its events since it started' },
    type: {
      type: 'string',
      enum: ['join', 'update', 'suspect', 'alive', 'failed', 'left', 'reap', 'protocol', 'user', 'query', 'degraded'],
      description: 'more types may come: a client should pass over one it does not know',
    },
    time: { type: 'string', format: 'date-time', description: 'when this agent saw it' },
    data: {
      type: 'object',
      description: 'as the GET /v1/events event of that type: a Member, a ProtocolSwitch, the user event or query, or a degraded pair {name, degraded, since}',
    },
  },
} as const;

const epochMs = (description: string) => ({ type: 'number', description: `${description} (epoch milliseconds)` }) as const;
const isoTime = (description: string) => ({ type: 'string', format: 'date-time', description }) as const;
const verdictRecord = {
  type: 'object',
  description:
    'One episode of a member at this node: a suspicion and how it ended, or a failure or departure heard of without one. Times are this node’s clock, in epoch milliseconds, the main ones also as ISO 8601 text.',
  required: [
    'member',
    'incarnation',
    'suspectedAt',
    'suspectedTime',
    'accuser',
    'own',
    'healthScore',
    'timeout',
    'probe',
    'heartbeat',
    'confirmations',
    'outcome',
    'returnedAt',
    'returnedTime',
  ],
  properties: {
    member: { type: 'string' },
    incarnation: { type: 'integer', description: 'the member’s incarnation the verdict was about' },
    suspectedAt: { ...epochMs('when this node marked it suspect; null: it heard of the failure or departure directly'), nullable: true },
    suspectedTime: { ...isoTime('suspectedAt as ISO 8601'), nullable: true },
    accuser: { type: 'string', description: 'who raised it: this node’s name for its own detector, else the rumour’s sender of record' },
    own: { type: 'boolean', description: 'whether this node’s own detector raised it' },
    healthScore: { type: 'integer', minimum: 0, description: 'this node’s Lifeguard health score then (0 is healthy)' },
    timeout: {
      type: 'object',
      nullable: true,
      description: 'the suspicion timeout’s bounds, and the confirmations that bring it to the minimum',
      properties: { minMs: { type: 'number' }, maxMs: { type: 'number' }, confirmationsExpected: { type: 'integer' } },
    },
    probe: {
      type: 'object',
      nullable: true,
      description: 'what this node’s own failed probe saw (a SWIM suspicion of its own)',
      properties: {
        sentAt: epochMs('when the ping went out'),
        directTimeoutMs: { type: 'number', description: 'how long it waited for a direct ack before asking helpers' },
        waitedMs: { type: 'number', description: 'how long the probe waited for any ack' },
        helpers: {
          type: 'array',
          items: { type: 'object', properties: { name: { type: 'string' }, answer: { type: 'string', enum: ['ack', 'nack', 'none'] } } },
        },
        tcp: { type: 'string', description: 'the TCP ping beside the indirect probe: not tried, failed (with why) or unanswered in time' },
      },
    },
    heartbeat: {
      type: 'object',
      nullable: true,
      description: 'a heartbeat detector’s evidence',
      properties: { silentForMs: { type: 'number' } },
    },
    confirmations: {
      type: 'array',
      description: 'other accusers of the running suspicion (each shortens its timeout)',
      items: {
        type: 'object',
        properties: {
          from: { type: 'string' },
          at: epochMs('when'),
          deadline: epochMs('when the suspicion was due to expire after it'),
          time: isoTime('at as ISO 8601'),
        },
      },
    },
    outcome: {
      type: 'object',
      nullable: true,
      description:
        'how it ended (null while the suspicion runs): kind refuted (with the incarnation the member answered), failed (by: this node’s name, or the rumour’s sender), left, dropped (with a reason)',
      required: ['kind', 'at', 'time'],
      properties: {
        kind: { type: 'string', enum: ['refuted', 'failed', 'left', 'dropped'] },
        at: epochMs('when'),
        time: isoTime('at as ISO 8601'),
        incarnation: { type: 'integer' },
        by: { type: 'string' },
        reason: { type: 'string' },
      },
    },
    returnedAt: { ...epochMs('when a failed or departed member was heard alive again'), nullable: true },
    returnedTime: { ...isoTime('returnedAt as ISO 8601'), nullable: true },
  },
} as const;

const views = {
  type: 'object',
  required: ['digest', 'distinct', 'agreeing', 'differing', 'degraded'],
  properties: {
    digest: {
      type: 'integer',
      minimum: 0,
      maximum: 4294967295,
      description: 'this node’s view digest: a u32 over the members it holds alive or suspect at which incarnation',
    },
    distinct: {
      type: 'integer',
      minimum: 1,
      description: 'distinct digests among this node’s and those of the peers that pinged or acked it in the last 10 probe intervals',
    },
    agreeing: { type: 'integer', minimum: 0, description: 'peers heard in that window whose digest equals this node’s' },
    differing: { type: 'array', items: { type: 'string' }, description: 'peers heard in that window whose digest differs' },
    degraded: {
      type: 'array',
      description: 'degraded pairs: members this node reached only through helpers or TCP twice in a row (its direct pings fail), since when',
      items: { type: 'object', required: ['member', 'since'], properties: { member: { type: 'string' }, since: { type: 'string', format: 'date-time' } } },
    },
  },
} as const;

const error = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } as const;
const readiness = {
  type: 'object',
  required: ['ready', 'reasons'],
  properties: { ready: { type: 'boolean' }, reasons: { type: 'array', items: { type: 'string' }, description: 'what keeps the agent from being ready' } },
} as const;

const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errorBody = json({ $ref: '#/components/schemas/Error' });
const tagsBody = { type: 'object', required: ['tags'], properties: { tags: { type: 'object', additionalProperties: { type: 'string' } } } } as const;
const errors = {
  '400': { description: 'bad request', ...errorBody },
  '401': { description: 'missing or wrong bearer token (when the agent has one)', ...errorBody },
  '403': { description: 'the request came from a foreign web page (an Origin header other than the agent’s own)', ...errorBody },
  '415': { description: 'a request that changes state (POST, PUT) was not sent with Content-Type: application/json (an empty body is fine)', ...errorBody },
  '421': {
    description: 'the Host header is not a name of this agent (DNS rebinding): localhost, 127.0.0.1, [::1], its address, or one given by --http-allowed-host',
    ...errorBody,
  },
};
/** Routes that make the whole cluster work share a rate limit and a limit on requests waiting at once. */
const clusterErrors = {
  ...errors,
  '429': {
    description: 'too many cluster-wide requests (20 a second, bursts of 100) or 16 already waiting for the cluster; Retry-After says when',
    ...errorBody,
  },
};
const members = { type: 'array', items: { $ref: '#/components/schemas/Member' } };

const coordinate = {
  type: 'object',
  properties: {
    vec: { type: 'array', items: { type: 'number' }, description: 'Euclidean part, seconds (8 dimensions)' },
    error: { type: 'number' },
    adjustment: { type: 'number', description: 'seconds' },
    height: { type: 'number', description: 'seconds' },
  },
} as const;

const keyResult = {
  type: 'object',
  properties: {
    ok: { type: 'boolean', description: 'every member answered, without error' },
    nodes: { type: 'integer', description: 'members alive when asked' },
    responses: { type: 'integer' },
    errors: { type: 'object', additionalProperties: { type: 'string' }, description: 'member → what went wrong there' },
    keys: { type: 'object', additionalProperties: { type: 'integer' }, description: 'key → members holding it (listing)' },
    primaryKeys: { type: 'object', additionalProperties: { type: 'integer' }, description: 'key → members using it as primary (listing)' },
  },
} as const;

function keyOperation(summary: string) {
  return {
    summary,
    requestBody: {
      required: true,
      ...json({ type: 'object', required: ['key'], properties: { key: { type: 'string', description: 'base64 of 16, 24 or 32 bytes' } } }),
    },
    responses: { '200': { description: 'how each member fared', ...json(keyResult) }, ...clusterErrors },
  };
}

export const openApiDocument = {
  openapi: '3.0.3',
  info: { title: 'hearsay agent', version: '1', description: 'Control and observe one hearsay cluster member.' },
  components: {
    schemas: {
      Member: member,
      ProtocolSwitch: protocolSwitch,
      Stats: stats,
      Error: error,
      EventRecord: eventRecord,
      VersionRange: versionRange,
      VerdictRecord: verdictRecord,
      Views: views,
    },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
  security: [{ bearer: [] }, {}],
  paths: {
    '/': { get: { summary: 'Redirects to the live view', security: [], responses: { '302': { description: 'to /ui' } } } },
    '/ui': {
      get: {
        summary: 'The live view: a web page of members, events and counters (its own calls send the token; the page itself needs none)',
        security: [],
        responses: { '200': { description: 'HTML page', content: { 'text/html': {} } } },
      },
    },
    '/v1/members': {
      get: {
        summary: 'This node’s membership list, filtered as serf members filters it (every filter given must match)',
        parameters: [
          {
            name: 'status',
            in: 'query',
            required: false,
            schema: { type: 'string' },
            description: 'comma list of alive, suspect, failed, left (repeatable); an unknown status is a 400',
          },
          {
            name: 'name',
            in: 'query',
            required: false,
            schema: { type: 'string' },
            description: 'RE2 regular expression the whole name must match (^(?:RE)$); one that RE2 refuses is a 400',
          },
          {
            name: 'tag',
            in: 'query',
            required: false,
            schema: { type: 'array', items: { type: 'string' } },
            style: 'form',
            explode: true,
            description: 'key=RE2 regular expression the whole tag value must match, a missing tag matched as empty text, as Serf does (repeatable)',
          },
        ],
        responses: { '200': { description: 'members', ...json(members) }, ...errors },
      },
    },
    '/v1/info': {
      get: {
        summary:
          'What serf info tells: agent (name, addresses), runtime (Node, OS, pid, uptime, memory), protocol (failure detector, memberlist and Serf versions), encryption, counts (members by status, Lamport clocks, queries), health (Lifeguard score, readiness), views (this node’s view digest, distinct digests among it and its peers, peers that differ, degraded pairs: see GET /v1/views), versions, tags',
        responses: { '200': { description: 'sections of key → value', ...json({ type: 'object', additionalProperties: { type: 'object' } }) }, ...errors },
      },
    },
    '/v1/monitor': {
      get: {
        summary:
          'Server-Sent Events: event: log with data: one JSON log record of this agent, at or above the level asked: the last lines it logged (up to 256), then each as written (serf monitor). Asking below the agent’s --log-level makes the agent produce those lines while the monitor is attached (its stderr keeps its level). A monitor that falls 1 MiB behind is dropped; at most 16 at once',
        parameters: [
          {
            name: 'level',
            in: 'query',
            required: false,
            schema: { type: 'string', enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal'], default: 'info' },
          },
        ],
        responses: {
          '200': { description: 'log stream', content: { 'text/event-stream': {} } },
          '429': { description: '16 monitors are already attached', ...errorBody },
          '503': { description: 'the agent runs without a log monitor (embedded by a program rather than run by hearsay agent)', ...errorBody },
          ...errors,
        },
      },
    },
    '/v1/reachability': {
      post: {
        summary:
          'serf reachability: a _serf_ping query with acks requested to every member; answers, at the query’s timeout, the acks and the members listed (left ones aside) that did not ack',
        requestBody: {
          required: false,
          ...json({
            type: 'object',
            properties: {
              timeoutMs: { type: 'number', exclusiveMinimum: 0, maximum: 300000, description: 'default: gossip interval × 16 × ceil(log10(n + 1))' },
            },
          }),
        },
        responses: {
          '200': {
            description: 'who answered',
            ...json({
              type: 'object',
              required: ['members', 'acks', 'silent', 'unexpected', 'elapsedMs'],
              properties: {
                members: { type: 'integer', description: 'members expected to ack: those listed, left ones aside' },
                acks: { type: 'array', items: { type: 'string' } },
                silent: {
                  type: 'array',
                  description: 'members that did not ack, with their status here',
                  items: {
                    type: 'object',
                    properties: { name: { type: 'string' }, address: { type: 'string' }, port: { type: 'integer' }, status: { type: 'string' } },
                  },
                },
                unexpected: { type: 'array', items: { type: 'string' }, description: 'acks from names this agent does not list (or lists as left)' },
                elapsedMs: { type: 'number' },
              },
            }),
          },
          ...clusterErrors,
        },
      },
    },
    '/v1/self': {
      get: { summary: 'This node', responses: { '200': { description: 'this node', ...json({ $ref: '#/components/schemas/Member' }) }, ...errors } },
    },
    '/v1/health': {
      get: {
        summary: 'Liveness: the agent runs and answers (for Kubernetes liveness probes; no token needed)',
        security: [],
        responses: {
          '200': {
            description: 'alive',
            ...json({ type: 'object', required: ['status', 'name'], properties: { status: { type: 'string', enum: ['alive'] }, name: { type: 'string' } } }),
          },
        },
      },
    },
    '/v1/ready': {
      get: {
        summary:
          'Readiness: joined (another member alive, unless the agent was given nothing to join) and healthy (local health score below its maximum); for readiness probes, no token needed',
        security: [],
        responses: {
          '200': { description: 'ready', ...json(readiness) },
          '503': { description: 'not ready, and why', ...json(readiness) },
        },
      },
    },
    '/v1/stats': {
      get: {
        summary: 'This node’s health score and counters (cumulative since start)',
        responses: { '200': { description: 'stats', ...json({ $ref: '#/components/schemas/Stats' }) }, ...errors },
      },
    },
    '/v1/suspects': { get: { summary: 'Members currently suspected', responses: { '200': { description: 'members', ...json(members) }, ...errors } } },
    '/v1/join': {
      post: {
        summary: 'Join through seeds',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['addrs'],
            properties: { addrs: { type: 'array', minItems: 1, maxItems: 64, items: { type: 'string', example: '127.0.0.1:7946' } } },
          }),
        },
        responses: {
          '200': { description: 'how many seeds answered', ...json({ type: 'object', properties: { joined: { type: 'integer' } } }) },
          '502': { description: 'no seed could be reached', ...errorBody },
          ...clusterErrors,
        },
      },
    },
    '/v1/leave': {
      post: {
        summary: 'Leave gracefully, then stop the agent (no body needed, but sent as application/json like every write)',
        responses: { '200': { description: 'leaving', ...json({ type: 'object', properties: { left: { type: 'boolean' } } }) }, ...errors },
      },
    },
    '/v1/protocol': {
      get: {
        summary: 'The failure detector in use, the switch that set it, and how heartbeats go',
        responses: {
          '200': {
            description: 'protocol',
            ...json({
              allOf: [
                { $ref: '#/components/schemas/ProtocolSwitch' },
                {
                  type: 'object',
                  properties: {
                    allToAll: { type: 'boolean', description: 'hybrid below its threshold: direct heartbeats to every member' },
                    pinned: { type: 'array', items: { type: 'string' }, description: 'members monitored by direct heartbeats' },
                  },
                },
              ],
            }),
          },
          ...errors,
        },
      },
      put: {
        summary: 'Switch the failure detector of the whole cluster (spread by gossip; the membership is kept)',
        requestBody: { required: true, ...json({ type: 'object', required: ['protocol'], properties: { protocol: { type: 'string', enum: protocols } } }) },
        responses: { '200': { description: 'the new switch, spreading', ...json({ $ref: '#/components/schemas/ProtocolSwitch' }) }, ...clusterErrors },
      },
    },
    '/v1/pinned': {
      put: {
        summary: 'Replace the members this node monitors by direct heartbeats (heartbeat and hybrid modes; this node only)',
        requestBody: { required: true, ...json({ type: 'object', required: ['names'], properties: { names: { type: 'array', items: { type: 'string' } } } }) },
        responses: {
          '200': { description: 'pinned', ...json({ type: 'object', properties: { pinned: { type: 'array', items: { type: 'string' } } } }) },
          ...errors,
        },
      },
    },
    '/v1/event': {
      post: {
        summary: 'Broadcast a user event to every member (serf event); it arrives as event: user on their streams',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              payload: { type: 'string', description: 'UTF-8 text (or payloadBase64 for bytes)' },
              payloadBase64: { type: 'string' },
            },
          }),
        },
        responses: {
          '200': {
            description: 'queued for gossip',
            ...json({ type: 'object', properties: { sent: { type: 'boolean' }, name: { type: 'string' }, bytes: { type: 'integer' } } }),
          },
          ...clusterErrors,
        },
      },
    },
    '/v1/query': {
      post: {
        summary: 'Ask the cluster (a Serf query): acks and answers collected until the timeout',
        requestBody: {
          required: true,
          ...json({
            type: 'object',
            required: ['name'],
            properties: {
              name: { type: 'string' },
              payload: { type: 'string', description: 'UTF-8 text (or payloadBase64 for bytes)' },
              payloadBase64: { type: 'string' },
              timeoutMs: {
                type: 'number',
                exclusiveMinimum: 0,
                maximum: 300000,
                description: 'default: gossip interval × 16 × ceil(log10(n + 1)); at most 5 minutes',
              },
              nodes: { type: 'array', items: { type: 'string' }, description: 'only these members answer' },
              tags: { type: 'object', additionalProperties: { type: 'string' }, description: 'tag → RE2 regular expression the member must match' },
              requestAck: { type: 'boolean', default: true },
              relayFactor: { type: 'integer', minimum: 0, maximum: 5 },
            },
          }),
        },
        responses: {
          '200': {
            description: 'what came back',
            ...json({
              type: 'object',
              properties: {
                acks: { type: 'array', items: { type: 'string' } },
                responses: {
                  type: 'array',
                  items: { type: 'object', properties: { from: { type: 'string' }, payload: { type: 'string' }, payloadBase64: { type: 'string' } } },
                },
                elapsedMs: { type: 'number' },
              },
            }),
          },
          ...clusterErrors,
        },
      },
    },
    '/v1/keys': {
      get: {
        summary: 'Every member’s encryption keys, counted (serf keys -list)',
        responses: { '200': { description: 'key listing', ...json(keyResult) }, ...clusterErrors },
      },
    },
    '/v1/keys/install': { post: keyOperation('Install a key on every member (serf keys -install)') },
    '/v1/keys/use': { post: keyOperation('Make an installed key the primary on every member (serf keys -use)') },
    '/v1/keys/remove': { post: keyOperation('Remove a key from every member; the primary cannot be removed (serf keys -remove)') },
    '/v1/tags': {
      get: {
        summary: 'This agent’s tags',
        responses: { '200': { description: 'the tags', ...json(tagsBody) }, ...errors },
      },
      put: {
        summary: 'Set these tags, keep the others (serf tags -set); gossiped, and written to --tags-file if given',
        requestBody: { required: true, ...json(tagsBody) },
        responses: {
          '200': { description: 'every tag now', ...json(tagsBody) },
          ...errors,
          '400': { description: 'not an object of strings, or the encoded tags would exceed 512 bytes (nothing changed)', ...errorBody },
        },
      },
    },
    '/v1/tags/{key}': {
      delete: {
        summary: 'Delete a tag (serf tags -delete); gossiped, and written to --tags-file if given',
        parameters: [{ name: 'key', in: 'path', required: true, schema: { type: 'string' } }],
        responses: {
          '200': { description: 'every tag now', ...json(tagsBody) },
          '404': { description: 'no such tag is set', ...errorBody },
          ...errors,
        },
      },
    },
    '/v1/force-leave': {
      post: {
        summary: 'Make a failed member `left` across the cluster, or with prune remove it at once (serf force-leave [-prune]); Serf agents follow',
        requestBody: {
          required: true,
          ...json({ type: 'object', required: ['node'], properties: { node: { type: 'string' }, prune: { type: 'boolean', default: false } } }),
        },
        responses: {
          '200': {
            description: 'the intent is out',
            ...json({ type: 'object', properties: { node: { type: 'string' }, status: { type: 'string', enum: ['left', 'pruned'] } } }),
          },
          '404': { description: 'no member of that name is known', ...errorBody },
          '409': { description: 'the member is alive or suspect: only a failed (or left) member can be forced out', ...errorBody },
          ...errors,
        },
      },
    },
    '/v1/members/{name}/history': {
      get: {
        summary:
          'Why a member is (or was) suspected, failed or left, as this node saw it: its episodes, oldest first (at most 16), each with who accused it, on what evidence (this node’s probe: direct ping, each helper’s answer, TCP ping; or whose rumour), the confirmations, this node’s health score, and how it ended (hearsay why)',
        parameters: [
          {
            name: 'name',
            in: 'path',
            required: true,
            schema: { type: 'string', maxLength: 255 },
            description: 'the member’s name, listed now or not; at most 255 characters (a longer one is a 400)',
          },
        ],
        responses: {
          '200': {
            description: 'the member’s history here',
            ...json({
              type: 'object',
              required: ['member', 'node', 'status', 'degradedSince', 'history'],
              properties: {
                member: { type: 'string' },
                node: { type: 'string', description: 'this node’s name: the history is its view' },
                status: {
                  type: 'string',
                  nullable: true,
                  enum: ['alive', 'suspect', 'failed', 'left'],
                  description: 'its status here now; null: no longer listed',
                },
                degradedSince: {
                  type: 'string',
                  format: 'date-time',
                  nullable: true,
                  description: 'since when this node reaches it only through helpers or TCP (a degraded pair); null: not degraded',
                },
                history: { type: 'array', items: { $ref: '#/components/schemas/VerdictRecord' } },
              },
            }),
          },
          '404': { description: 'this node neither lists a member of that name nor has a verdict about it on record', ...errorBody },
          ...errors,
        },
      },
    },
    '/v1/views': {
      get: {
        summary:
          'Whether this node’s view of the membership agrees with its peers’: its view digest, the distinct digests among it and the peers heard in the last 10 probe intervals, which peers differ, and the degraded pairs (members reached only through helpers or TCP)',
        responses: { '200': { description: 'views', ...json({ $ref: '#/components/schemas/Views' }) }, ...errors },
      },
    },
    '/v1/coordinates': {
      get: {
        summary: 'This node’s network coordinate and every member’s it has heard (Vivaldi, as Serf’s)',
        responses: {
          '200': {
            description: 'coordinates',
            ...json({ type: 'object', properties: { self: coordinate, members: { type: 'object', additionalProperties: coordinate } } }),
          },
          ...errors,
        },
      },
    },
    '/v1/rtt': {
      get: {
        summary: 'A round trip estimated from coordinates, as `serf rtt` does',
        parameters: [
          { name: 'a', in: 'query', required: true, schema: { type: 'string' } },
          { name: 'b', in: 'query', required: false, schema: { type: 'string' }, description: 'default: this node' },
        ],
        responses: {
          '200': {
            description: 'estimate',
            ...json({ type: 'object', properties: { a: { type: 'string' }, b: { type: 'string' }, rttMs: { type: 'number' } } }),
          },
          '404': { description: 'no such member, or no coordinate for it yet', ...json({ $ref: '#/components/schemas/Error' }) },
          ...errors,
        },
      },
    },
    '/v1/events': {
      get: {
        summary:
          'Server-Sent Events, each with id: N (the number GET /v1/events/recent gives it): event: join|update|suspect|alive|failed|left|reap with data: Member; event: protocol with data: ProtocolSwitch; event: user with data: {name, payload, payloadBase64} (a broadcast / Serf user event, which names no sender); event: query with data: {name, from, ltime, payload}; event: degraded with data: {name, degraded, since} when this node starts reaching a member only through helpers or TCP (degraded: true) and when that ends (false). A client should pass over event types it does not know. A client that falls 256 KiB behind is dropped; at most 64 clients at once',
        responses: {
          '200': { description: 'event stream', content: { 'text/event-stream': {} } },
          '429': { description: '64 clients are already following the stream', ...errorBody },
          ...errors,
        },
      },
    },
    '/v1/events/recent': {
      get: {
        summary: 'The last events this agent saw (it keeps 200), oldest first, as the records --event-webhook POSTs: the data is what GET /v1/events sends',
        parameters: [
          {
            name: 'limit',
            in: 'query',
            required: false,
            schema: { type: 'integer', minimum: 1, maximum: 200 },
            description: 'the newest N only (default: all kept)',
          },
        ],
        responses: {
          '200': {
            description: 'events',
            ...json({ type: 'object', required: ['events'], properties: { events: { type: 'array', items: { $ref: '#/components/schemas/EventRecord' } } } }),
          },
          ...errors,
        },
      },
    },
    '/metrics': {
      get: {
        summary: 'Prometheus metrics: the node’s (hearsay_*) and the Node process’s (process_* and nodejs_*: CPU, memory, heap, event-loop lag, GC, open fds)',
        responses: { '200': { description: 'text exposition format', content: { 'text/plain': {} } } },
      },
    },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3 document' } } } },
  },
} as const;
