import { Worker } from 'node:worker_threads';
import type { Row, Task } from './types.js';

/** A 10,000-node simulation needs some 3 GB of heap; the default limit is far lower. */
const WORKER_HEAP_MB = 8192;

type Reply = { index: number; rows: Row[]; wallMs: number } | { index: number; error: string };

/**
 * A pool of worker threads running simulation tasks. Results come back in task order whatever
 * order the workers finish in, so a run's output depends only on its tasks and seeds.
 */
export class WorkerPool {
  readonly #workers: Worker[] = [];

  constructor(size: number) {
    for (let i = 0; i < size; i++) {
      this.#workers.push(new Worker(new URL('./worker.js', import.meta.url), { resourceLimits: { maxOldGenerationSizeMb: WORKER_HEAP_MB } }));
    }
  }

  get size(): number {
    return this.#workers.length;
  }

  /** Runs the tasks, the costliest first so that no long one is left for the end. */
  run(tasks: readonly Task[], onDone: (task: Task, wallMs: number) => void): Promise<Row[][]> {
    const results: Row[][] = new Array(tasks.length);
    const order = tasks.map((_, i) => i).sort((a, b) => tasks[b]!.cost - tasks[a]!.cost || a - b);
    let next = 0;
    let finished = 0;
    return new Promise((resolve, reject) => {
      if (tasks.length === 0) return resolve(results);
      const cleanups: (() => void)[] = [];
      const fail = (error: Error) => {
        for (const cleanup of cleanups) cleanup();
        reject(error);
      };
      const feed = (worker: Worker) => {
        if (next >= order.length) return;
        const index = order[next++]!;
        worker.postMessage({ index, task: tasks[index] });
      };
      for (const worker of this.#workers) {
        const onMessage = (reply: Reply) => {
          if ('error' in reply) return fail(new Error(`simulation task ${JSON.stringify(tasks[reply.index])} failed: ${reply.error}`));
          results[reply.index] = reply.rows;
          onDone(tasks[reply.index]!, reply.wallMs);
          if (++finished === tasks.length) {
            for (const cleanup of cleanups) cleanup();
            resolve(results);
          } else {
            feed(worker);
          }
        };
        const onError = (error: Error) => fail(error);
        const onExit = (code: number) => fail(new Error(`a simulation worker exited with code ${code} (out of memory?)`));
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
        cleanups.push(() => worker.off('message', onMessage).off('error', onError).off('exit', onExit));
        feed(worker);
      }
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.#workers.map((worker) => worker.terminate()));
  }
}
