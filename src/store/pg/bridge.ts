// The synchronous bridge to the PostgreSQL worker thread, on Node's own primitives: the main thread posts
// a request on a MessageChannel and sleeps on a shared flag (Atomics.wait) until the worker has posted the
// answer and raised the flag; then it takes the answer off the port (receiveMessageOnPort) without ever
// returning to the event loop. One request is in flight at a time: every call waits for its answer.
// (A general library for this, synckit, cost ~40 ms of CPU to load in each thread of every command.)
import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';

interface Envelope<T> {
  id: number;
  body: T;
}

/** Starts `script` as a worker thread serving `handle` (workerServe) and returns the blocking call into it. */
export function startSyncWorker<Q, A>(script: string): (request: Q) => A {
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const { port1, port2 } = new MessageChannel();
  const worker = new Worker(script, { workerData: { port: port2, flag }, transferList: [port2] });
  worker.unref();
  port1.unref();
  let died: Error | null = null;
  worker.on('error', (e) => (died = e));
  let seq = 0;
  return (request: Q): A => {
    if (died) throw died;
    const id = ++seq;
    Atomics.store(flag, 0, 0);
    port1.postMessage({ id, body: request } satisfies Envelope<Q>);
    // The flag, not the wake-up, says the answer is there: the worker raises it after posting the answer,
    // and a notify meant for the previous request can still wake this wait (it raced our reset above).
    while (Atomics.load(flag, 0) === 0) {
      // every minute, look whether the worker is still there to answer
      if (Atomics.wait(flag, 0, 0, 60_000) === 'timed-out' && worker.threadId === -1) throw new Error('the PostgreSQL worker thread stopped without answering');
    }
    for (;;) {
      const got = receiveMessageOnPort(port1) as { message: Envelope<A> } | undefined;
      if (!got) throw new Error('the PostgreSQL worker thread answered nothing');
      if (got.message.id === id) return got.message.body;
    }
  };
}

/** In the worker: answers each request with what `handle` resolves to (handle never rejects). */
export function workerServe<Q, A>(handle: (request: Q) => Promise<A>): void {
  const { port, flag } = workerData as { port: MessagePort; flag: Int32Array };
  port.on('message', (m: Envelope<Q>) => {
    void handle(m.body).then((body) => {
      port.postMessage({ id: m.id, body } satisfies Envelope<A>);
      Atomics.store(flag, 0, 1);
      Atomics.notify(flag, 0);
    });
  });
}
