// The worker thread of an import's phase 1 (see importParse.ts): parses the file, or one stretch of it,
// and posts its chunks to the thread that stages them, waiting whenever it is AHEAD chunks in front. Given
// a shared stage, it appends each chunk's groups and bad rows to it itself, and posts the rest. Asked to
// stop, it ends between two stretches of the file.
import { parentPort, workerData } from 'node:worker_threads';
import { UsageError } from '../errors.js';
import { StageLoader } from '../store/purchases.js';
import { AHEAD, type ParseControl, type ParseInput, type ParseMessage, parsePurchases } from './importParse.js';

const port = parentPort!;
const send = (m: ParseMessage) => port.postMessage(m);
const input = workerData as ParseInput;
let posted = 0;
let acked = 0;
let stopping = false;
let wake: (() => void) | null = null;
port.on('message', (m: ParseControl) => {
  if (m === 'stop') stopping = true;
  else acked++;
  wake?.();
});

class Stopped extends Error {}

const loader = input.stage ? StageLoader.open(input.stage) : null;
let bytes = 0;
try {
  const done = await parsePurchases(
    input,
    (chunk) => {
      if (loader) {
        loader.append(chunk.groups, chunk.bad, chunk.guestRows);
        chunk = { ...chunk, groups: { str: [], num: [] }, bad: [], guestRows: [] };
      }
      send({ chunk, bytes });
      posted++;
    },
    (b) => (bytes = b),
    async () => {
      while (!stopping && posted - acked >= AHEAD) await new Promise<void>((r) => (wake = r));
      wake = null;
      if (stopping) throw new Stopped();
    },
  );
  send({ done });
} catch (e) {
  if (!(e instanceof Stopped)) send({ error: { message: (e as Error).message, hint: e instanceof UsageError ? e.hint : undefined, usage: e instanceof UsageError, stack: (e as Error).stack, code: typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined } });
} finally {
  loader?.close();
}
port.close();
