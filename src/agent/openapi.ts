/** The HTTP control API, described for clients and served at GET /openapi.json. */
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
  },
} as const;

const error = { type: 'object', required: ['error'], properties: { error: { type: 'string' } } } as const;
const json = (schema: object) => ({ content: { 'application/json': { schema } } });
const errors = {
  '400': { description: 'bad request', ...json({ $ref: '#/components/schemas/Error' }) },
  '401': { description: 'missing or wrong bearer token (when the agent has one)', ...json({ $ref: '#/components/schemas/Error' }) },
};
const members = { type: 'array', items: { $ref: '#/components/schemas/Member' } };

export const openApiDocument = {
  openapi: '3.0.3',
  info: { title: 'hearsay agent', version: '1', description: 'Control and observe one hearsay cluster member.' },
  components: {
    schemas: { Member: member, Error: error },
    securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
  },
  security: [{ bearer: [] }, {}],
  paths: {
    '/v1/members': { get: { summary: 'This node’s membership list', responses: { '200': { description: 'members', ...json(members) }, ...errors } } },
    '/v1/self': { get: { summary: 'This node', responses: { '200': { description: 'this node', ...json({ $ref: '#/components/schemas/Member' }) }, ...errors } } },
    '/v1/suspects': { get: { summary: 'Members currently suspected', responses: { '200': { description: 'members', ...json(members) }, ...errors } } },
    '/v1/join': {
      post: {
        summary: 'Join through seeds',
        requestBody: { required: true, ...json({ type: 'object', required: ['addrs'], properties: { addrs: { type: 'array', minItems: 1, items: { type: 'string', example: '127.0.0.1:7946' } } } }) },
        responses: {
          '200': { description: 'how many seeds answered', ...json({ type: 'object', properties: { joined: { type: 'integer' } } }) },
          '502': { description: 'no seed could be reached', ...json({ $ref: '#/components/schemas/Error' }) },
          ...errors,
        },
      },
    },
    '/v1/leave': { post: { summary: 'Leave gracefully, then stop the agent', responses: { '200': { description: 'leaving', ...json({ type: 'object', properties: { left: { type: 'boolean' } } }) }, ...errors } } },
    '/v1/protocol': {
      get: { summary: 'The failure detection protocol in use', responses: { '200': { description: 'protocol', ...json({ type: 'object', properties: { protocol: { type: 'string' }, available: { type: 'array', items: { type: 'string' } } } }) } } },
      put: {
        summary: 'Switch protocol at run time',
        requestBody: { required: true, ...json({ type: 'object', required: ['protocol'], properties: { protocol: { type: 'string', enum: ['swim', 'heartbeat', 'hybrid'] } } }) },
        responses: { '200': { description: 'switched' }, '409': { description: 'not available in this version', ...json({ $ref: '#/components/schemas/Error' }) }, ...errors },
      },
    },
    '/v1/events': { get: { summary: 'Server-Sent Events: one per membership event (event: join|update|suspect|alive|failed|left, data: Member)', responses: { '200': { description: 'event stream', content: { 'text/event-stream': {} } } } } },
    '/metrics': { get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text exposition format', content: { 'text/plain': {} } } } } },
    '/openapi.json': { get: { summary: 'This document', responses: { '200': { description: 'OpenAPI 3 document' } } } },
  },
} as const;
