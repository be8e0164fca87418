// The PostgreSQL side of the synchronous bridge: a worker thread holding the `pg` connections. The main
// thread asks through synckit and blocks until the answer, so the store keeps one synchronous API on both
// backends (better-sqlite3 is synchronous; pg is not). One message is one round trip to the server.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { runAsWorker } from 'synckit';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';

// Values come back as the SQLite store would give them: integers as numbers (every amount and count
// the ledger keeps is below 2^53), sums as numbers, booleans as 1 and 0.
const asNumber = (v: string) => Number(v);
pg.types.setTypeParser(20, asNumber); // int8
pg.types.setTypeParser(1700, asNumber); // numeric
pg.types.setTypeParser(16, (v: string) => (v === 't' ? 1 : 0)); // bool

export type Request =
  | { op: 'connect'; conn: number; url: string; lockTimeoutMs: number; appName: string }
  | { op: 'query'; conn: number; name?: string; text: string; values: unknown[]; rowMode: 'array' | 'object' }
  | { op: 'exec'; conn: number; text: string }
  | { op: 'copyIn'; conn: number; text: string; data: string }
  | { op: 'close'; conn: number }
  /**
   * Writes whose results nobody waits for (COPYs, statements without RETURNING), inside a transaction,
   * in order: answered as soon as they are handed to the connection, so the caller goes on while the
   * server writes. The next request that is not queued waits until every queued one has finished; the
   * first that failed is the answer to it, and to every request after it until ROLLBACK (the server has
   * aborted the transaction: nothing of it is written). `relaxed`: a COPY whose rows skip the triggers
   * (foreign-key checks) under session_replication_role = replica, set for such COPYs alone.
   */
  | { op: 'queue'; conn: number; items: QueuedWrite[] };

export interface QueuedWrite {
  text: string;
  /** COPY's rows, in its text format. */
  data?: string;
  values?: unknown[];
  relaxed?: boolean;
}

export interface Reply {
  rows?: unknown[];
  rowCount?: number | null;
  /** `queued`: the error is a queued write's (`text` names it), not the request's own. */
  error?: { message: string; code?: string; detail?: string; constraint?: string; queued?: boolean; text?: string };
}

const clients = new Map<number, pg.Client>();

/** Queued writes of a connection: the last in the chain, those not yet done and their bytes, and the first that failed. */
interface Queue {
  tail: Promise<void>;
  pending: Set<Promise<void>>;
  bytes: number;
  error: Reply['error'] | null;
  /** Whether session_replication_role is replica in the open transaction (a relaxed COPY set it). */
  replica: boolean;
}

/** Sets session_replication_role for what comes next on the connection, if it is not so already. */
async function replica(c: pg.Client, q: Queue, on: boolean): Promise<void> {
  if (q.replica === on) return;
  await c.query(`SET LOCAL session_replication_role = ${on ? 'replica' : 'origin'}`);
  q.replica = on;
}
const queues = new Map<number, Queue>();
/** Bytes of queued data in flight per connection beyond which a queued write waits (memory stays bounded). */
const QUEUE_BYTES = 4 << 20;

/**
 * A full collection of this thread's heap once every few tens of MB of COPY data: the rows come as
 * large strings, which V8 would otherwise let pile up to hundreds of MB before collecting them (an
 * import's memory budget, SPEC §6, is the whole process's). A few ms each.
 */
let copiedSinceGc = 0;
const GC_EVERY_BYTES = 16 << 20;
const gc = (() => {
  try {
    setFlagsFromString('--expose-gc');
    return runInNewContext('gc') as () => void;
  } catch {
    return null;
  }
})();
function copied(bytes: number): void {
  copiedSinceGc += bytes;
  if (copiedSinceGc < GC_EVERY_BYTES || !gc) return;
  copiedSinceGc = 0;
  gc();
}

function client(conn: number): pg.Client {
  const c = clients.get(conn);
  if (!c) throw new Error(`PostgreSQL connection ${conn} is not open`);
  return c;
}

function queueOf(conn: number): Queue {
  let q = queues.get(conn);
  if (!q) queues.set(conn, (q = { tail: Promise.resolve(), pending: new Set(), bytes: 0, error: null, replica: false }));
  return q;
}

function copy(c: pg.Client, text: string, data: string): Promise<number> {
  const stream = c.query(copyFrom(text));
  return new Promise<number>((resolve, reject) => {
    stream.on('finish', () => resolve(stream.rowCount));
    stream.on('error', reject);
    stream.end(data);
  });
}

/** Chains writes after the connection's queued ones (each sent when the one before is done) and answers at once. */
async function enqueue(r: Extract<Request, { op: 'queue' }>): Promise<Reply> {
  const q = queueOf(r.conn);
  while (q.bytes > QUEUE_BYTES && q.pending.size) await Promise.race(q.pending);
  const c = client(r.conn);
  for (const w of r.items) {
    if (q.error) return {}; // the transaction is aborted already: the next waited request says why
    const size = w.data?.length ?? 0;
    q.bytes += size;
    const done: Promise<void> = q.tail
      .then(async () => {
        if (q.error) return; // (an earlier one failed: the server would refuse this one anyway)
        await replica(c, q, w.relaxed === true);
        if (w.data !== undefined) await copy(c, w.text, w.data);
        else await c.query({ text: w.text, values: w.values });
      })
      .catch((e: unknown) => {
        q.error ??= { ...errorOf(e), queued: true, text: w.text };
      })
      .finally(() => {
        q.bytes -= size;
        copied(size);
        q.pending.delete(done);
      });
    q.tail = done;
    q.pending.add(done);
  }
  return {};
}

/**
 * Before a request that is not queued: waits for the queued writes, and answers with the first one's
 * error if one failed (kept until ROLLBACK, which clears it, or close).
 */
async function drain(r: Request): Promise<Reply | null> {
  const q = queues.get(r.conn);
  if (!q) return null;
  await q.tail;
  const ends = r.op === 'close' || (r.op === 'exec' && /^\s*(ROLLBACK|COMMIT|END)\b/i.test(r.text));
  if (q.error) {
    if (!ends || r.op === 'exec' && /^\s*(COMMIT|END)\b/i.test(r.text)) return { error: q.error };
    q.error = null;
  }
  // (SET LOCAL ends with the transaction; anything else in it runs with the triggers on again)
  if (ends) q.replica = false;
  else if (q.replica) await replica(client(r.conn), q, false);
  return null;
}

function errorOf(e: unknown): NonNullable<Reply['error']> {
  const err = e as { message?: string; code?: string; detail?: string; constraint?: string };
  return { message: String(err.message ?? e), code: err.code, detail: err.detail, constraint: err.constraint };
}

async function handle(r: Request): Promise<Reply> {
  if (r.op === 'queue') return enqueue(r);
  const failed = await drain(r);
  if (failed) return failed;
  switch (r.op) {
    case 'connect': {
      const c = new pg.Client({ connectionString: r.url, application_name: r.appName });
      c.on('error', () => undefined); // a dropped connection fails the next query instead
      await c.connect();
      await c.query(`SET lock_timeout = ${Math.max(1, Math.floor(r.lockTimeoutMs))}`);
      await c.query("SET client_min_messages = 'warning'");
      clients.set(r.conn, c);
      return {};
    }
    case 'query': {
      const c = client(r.conn);
      const res = r.rowMode === 'array' ? await c.query({ name: r.name, text: r.text, values: r.values, rowMode: 'array' }) : await c.query({ name: r.name, text: r.text, values: r.values });
      return { rows: res.rows as unknown[], rowCount: res.rowCount };
    }
    case 'exec': {
      await client(r.conn).query(r.text);
      return {};
    }
    case 'copyIn':
      return { rowCount: await copy(client(r.conn), r.text, r.data) };
    case 'close': {
      const c = clients.get(r.conn);
      clients.delete(r.conn);
      queues.delete(r.conn);
      if (c) await c.end().catch(() => undefined);
      return {};
    }
  }
}

runAsWorker(async (r: Request): Promise<Reply> => {
  try {
    return await handle(r);
  } catch (e) {
    return { error: errorOf(e) };
  }
});
