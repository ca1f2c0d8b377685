import type { FastifyInstance } from 'fastify';
import type { HearsayNode } from 'hearsay';
import { ApiError } from './api-error.js';
import type { TagsFile } from './tags-file.js';

/**
 * This agent's tags at run time, as `serf tags` changes them: `GET /v1/tags`, `PUT /v1/tags`
 * (sets the keys given, keeps the others) and `DELETE /v1/tags/:key`. A change is gossiped
 * (a new incarnation of this node's meta) and written to the tags file when the agent has one.
 * Tags past Serf's 512 bytes are the library's OptionError: 400, and nothing changes.
 */
export function registerTagRoutes(app: FastifyInstance, node: HearsayNode, tagsFile: TagsFile | undefined): void {
  const replaceTags = async (tags: Record<string, string>) => {
    const before = node.self.tags;
    node.setTags(tags);
    if (!tagsFile) return;
    try {
      await tagsFile.save(tags);
    } catch (error) {
      // Not kept, so not announced either: the tags stay what the file says.
      node.setTags(before);
      throw new ApiError(500, `cannot write tags file ${tagsFile.path}: ${(error as Error).message}`);
    }
  };

  app.get('/v1/tags', async () => ({ tags: node.self.tags }));

  app.put('/v1/tags', async (request) => {
    const given = (request.body as { tags?: unknown } | null)?.tags;
    if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new ApiError(400, 'body must be {"tags": {"key": "value", …}}');
    for (const [key, value] of Object.entries(given)) {
      if (key === '') throw new ApiError(400, 'a tag needs a non-empty key');
      if (typeof value !== 'string') throw new ApiError(400, `tag ${key}: the value must be a string, got ${JSON.stringify(value)}`);
    }
    await replaceTags({ ...node.self.tags, ...(given as Record<string, string>) });
    return { tags: node.self.tags };
  });

  app.delete('/v1/tags/:key', async (request) => {
    const { key } = request.params as { key: string };
    const tags = { ...node.self.tags };
    if (!Object.hasOwn(tags, key)) throw new ApiError(404, `no tag ${key} is set`);
    delete tags[key];
    await replaceTags(tags);
    return { tags: node.self.tags };
  });
}
