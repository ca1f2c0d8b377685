/** A worker thread: runs the tasks it is sent, one at a time, and sends back their rows. */
import { parentPort } from 'node:worker_threads';
import { runScenario } from './scenarios.js';
import type { Task } from './types.js';

parentPort!.on('message', (message: { index: number; task: Task }) => {
  try {
    const started = performance.now();
    const rows = runScenario(message.task);
    parentPort!.postMessage({ index: message.index, rows, wallMs: performance.now() - started });
  } catch (error) {
    parentPort!.postMessage({ index: message.index, error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
