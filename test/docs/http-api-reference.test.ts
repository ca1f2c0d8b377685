/**
 * The reference part of docs/http-api.md is what scripts/http-api-docs.ts renders from the
 * OpenAPI document the agent serves at /openapi.json: one description of the API, not two.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '../../packages/agent/src/agent/openapi.js';
import { BEGIN_MARKER, DOC_PATH, END_MARKER, renderReference, withReference } from '../../scripts/http-api-docs.js';

describe('docs/http-api.md', () => {
  it('holds the reference generated from /openapi.json (regenerate: npx vite-node scripts/http-api-docs.ts --write)', () => {
    const current = readFileSync(DOC_PATH, 'utf8');
    expect(current).toContain(BEGIN_MARKER);
    expect(current).toContain(END_MARKER);
    expect(current).toBe(withReference(current, renderReference(openApiDocument)));
  });

  it('renders each operation: method and path, summary, parameters, body fields and responses', () => {
    const reference = renderReference({
      paths: {
        '/v1/thing': {
          post: {
            summary: 'Make a thing',
            parameters: [{ name: 'dry', in: 'query', required: false, schema: { type: 'boolean' }, description: 'only check' }],
            requestBody: {
              required: true,
              content: { 'application/json': { schema: { type: 'object', required: ['size'], properties: { size: { type: 'integer', minimum: 1 } } } } },
            },
            responses: {
              '200': { description: 'made', content: { 'application/json': { schema: { $ref: '#/components/schemas/Thing' } } } },
              '400': { description: 'bad request' },
            },
          },
          get: { summary: 'The thing', responses: { '400': { description: 'bad request' } } },
        },
      },
      components: { schemas: { Thing: { type: 'object', properties: { id: { type: 'string', description: 'its name' } } } } },
    });
    expect(reference).toContain('### `POST /v1/thing`\n\nMake a thing.');
    expect(reference).toContain('| `dry` | query | boolean |  | only check |');
    expect(reference).toContain('| `size` | integer | yes | ≥ 1 |');
    expect(reference).toContain('200: made — `application/json`: [Thing](#thing)');
    // A response described alike on several routes is listed once, up front.
    expect(reference).toContain('| 400 | bad request |');
    expect(reference).toContain('Errors: 400.');
    expect(reference).toContain('### Thing\n\n| field | type | required | meaning |\n|---|---|---|---|\n| `id` | string |  | its name |');
  });
});
