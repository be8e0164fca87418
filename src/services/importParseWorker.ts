// The worker thread of an import's phase 1 (see importParse.ts): parses the file, or one stretch of it,
// and posts its chunks to the thread that stages them, waiting whenever it is AHEAD chunks in front.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { AHEAD, type ParseInput, type ParseMessage, parsePurchases } from './importParse.js';

const port = parentPort!;
const send = (m: ParseMessage) => port.postMessage(m);
let posted = 0;
let acked = 0;
let wake: (() => void) | null = null;
port.on('message', () => {
  acked++;
  wake?.();
});

let bytes = 0;
try {
  const done = await parsePurchases(
    workerData as ParseInput,
    (chunk) => {
      send({ chunk, bytes });
      posted++;
    },
    (b) => (bytes = b),
    async () => {
      while (posted - acked >= AHEAD) await new Promise<void>((r) => (wake = r));
      wake = null;
    },
  );
  send({ done });
} catch (e) {
  send({ error: { message: (e as Error).message, hint: e instanceof UsageError ? e.hint : undefined, usage: e instanceof UsageError, stack: (e as Error).stack } });
}
port.close();
