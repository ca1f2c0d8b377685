/** A worker thread's share of the fuzzing (bundled by esbuild for the worker: see fuzz.test.ts). */
import { parentPort, workerData } from 'node:worker_threads';
import { runCampaign, type CampaignOptions } from './fuzz-campaign.js';

parentPort!.postMessage(runCampaign(workerData as CampaignOptions));
