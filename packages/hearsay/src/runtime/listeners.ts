/**
 * Calls every listener whatever the others do: what one throws, or a promise it returns rejects
 * with, goes to `failed` and never back to the caller of `emit` (for a node, the socket handler
 * that received the message, where it would end the process). Whether there was a listener.
 */
export function callEachListener(listeners: readonly unknown[], self: unknown, args: readonly unknown[], failed: (error: unknown) => void): boolean {
  for (const listener of listeners as ((...values: unknown[]) => unknown)[]) {
    try {
      const result = listener.apply(self, args as unknown[]);
      if (result instanceof Promise) result.catch(failed);
    } catch (error) {
      failed(error);
    }
  }
  return listeners.length > 0;
}
