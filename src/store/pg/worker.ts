// The PostgreSQL side of the synchronous bridge: a worker thread holding the `pg` connections. The main
// thread asks through bridge.ts and blocks until the answer, so the store keeps one synchronous API on both
// backends (better-sqlite3 is synchronous; pg is not). One message is one round trip to the server.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createRequire } from 'node:module';
import type pg from 'pg';
import type * as CopyStreams from 'pg-copy-streams';
import { workerServe } from './bridge.js';

// COPY's streams are loaded by the first COPY: most commands never make one.
let copyStreams: typeof CopyStreams | undefined;
const streams = (): typeof CopyStreams => (copyStreams ??= createRequire(import.meta.url)('pg-copy-streams') as typeof CopyStreams);

/**
 * `pg`, loaded without Node's fetch. At load, pg asks whether it runs on Cloudflare Workers: with no
 * `navigator` (Node 20 has none) it builds a fetch `Response` to find out, which compiles Node's whole
 * fetch implementation (undici), about 50 ms of CPU in every PostgreSQL command. A `navigator` that says
 * Node, there only while pg loads, answers the question first.
 */
function loadPg(): typeof pg {
  const g = globalThis as { navigator?: unknown };
  const had = 'navigator' in g;
  if (!had) Object.defineProperty(g, 'navigator', { value: { userAgent: `Node.js/${process.versions.node}` }, configurable: true });
  try {
    return createRequire(import.meta.url)('pg') as typeof pg;
  } finally {
    if (!had) delete g.navigator;
  }
}
const pgLib = loadPg();

// The driver warns, over nine lines of stderr, that sslmode=prefer/require/verify-ca verify the server's
// certificate as verify-full does (README says so): a --json command's stderr is one line (SPEC §2).
const emitWarning = process.emitWarning.bind(process);
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  if (String(warning).startsWith("SECURITY WARNING: The SSL modes 'prefer', 'require', and 'verify-ca' are treated as aliases")) return;
  (emitWarning as (w: string | Error, ...a: unknown[]) => void)(warning, ...rest);
}) as typeof process.emitWarning;

// Values come back as the SQLite store would give them: integers as numbers (every amount and count
// the ledger keeps is below 2^53), sums as numbers, booleans as 1 and 0.
const asNumber = (v: string) => Number(v);
pgLib.types.setTypeParser(20, asNumber); // int8
pgLib.types.setTypeParser(1700, asNumber); // numeric
pgLib.types.setTypeParser(16, (v: string) => (v === 't' ? 1 : 0)); // bool

export type Request =
  | { op: 'connect'; conn: number; url: string; lockTimeoutMs: number; appName: string; share?: number }
  | { op: 'query'; conn: number; name?: string; text: string; values: unknown[]; rowMode: 'array' | 'object' }
  | { op: 'exec'; conn: number; text: string }
  | { op: 'copyIn'; conn: number; text: string; data: string }
  | { op: 'close'; conn: number }
  | { op: 'reconnect'; conn: number }
  | { op: 'copyOutOpen'; conn: number; id: number; text: string; snapshot: string | null }
  | { op: 'copyOutRead'; id: number }
  | { op: 'copyOutClose'; id: number }
  | { op: 'aheadOpen'; conn: number; id: number; texts: string[]; snapshot: string | null }
  | { op: 'aheadGet'; id: number; index: number }
  | { op: 'aheadClose'; id: number }
  /**
   * Writes whose results nobody waits for (COPYs, statements without RETURNING), inside a transaction,
   * in order: answered as soon as they are handed to the connection, so the caller goes on while the
   * server writes. The next request that is not queued waits until every queued one has finished; the
   * first that failed is the answer to it, and to every request after it until ROLLBACK (the server has
   * aborted the transaction: nothing of it is written). `relaxed`: a COPY whose rows skip the triggers
   * (foreign-key checks) under session_replication_role = replica, set for such COPYs alone.
   */
  | { op: 'queue'; conn: number; items: QueuedWrite[]; tag?: number }
  /**
   * Waits until the queued writes tagged up to `tag` are done (not those queued after them), and
   * answers with the first queued write's error if it was one of them (an import's writer: part by part).
   */
  | { op: 'await'; conn: number; tag: number };

export interface QueuedWrite {
  text: string;
  /** COPY's rows, in its text format (or those bytes, UTF-8). */
  data?: string | Uint8Array;
  values?: unknown[];
  relaxed?: boolean;
  /** Counts as one of the connection's commits once done (the data_version bump of a queued COMMIT). */
  bump?: boolean;
  /** Ends the transaction (a queued COMMIT): what SET LOCAL set ends with it. */
  ends?: boolean;
}

export interface Reply {
  rows?: unknown[];
  rowCount?: number | null;
  /** copyOutOpen: the type oid of each column. */
  types?: number[];
  /** connect: what the database holds of a ledger (read with the connection, for openStore). */
  schema?: { hasSchema: boolean; version: number; hasDataVersion: boolean; encoding: string; shared?: boolean };
  /** copyOutRead: whole rows of COPY's text format, each ending in a line feed ('' when done). */
  text?: string;
  /** `queued`: the error is a queued write's (`text` names it, `tag` its tag), not the request's own. */
  error?: { message: string; code?: string; detail?: string; constraint?: string; queued?: boolean; text?: string; tag?: number };
  /** Queued writes marked `bump` done so far on the connection (every answer to a request on it says). */
  bumps?: number;
}

const clients = new Map<number, pg.Client>();
/** The session settings of every connection, given at connect (PGOPTIONS' form). */
const sessionOptions = (lockTimeoutMs: number) =>
  `${process.env.PGOPTIONS ?? ''} -c lock_timeout=${Math.max(1, Math.floor(lockTimeoutMs))} -c client_min_messages=warning`.trim();
/** How each connection was opened, so side connections (copyOut) open the same way. */
const params = new Map<number, { url: string; lockTimeoutMs: number; appName: string; share?: number }>();
/** A connection opened with a connection's URL and settings (its own, a side one, or one in place of a dropped one). */
async function openClient(p: { url: string; lockTimeoutMs: number; appName: string }): Promise<pg.Client> {
  // the session's settings ride in the startup message: no round trip of their own
  const c = new pgLib.Client({ connectionString: p.url, application_name: p.appName, options: sessionOptions(p.lockTimeoutMs) });
  c.on('error', () => undefined); // a dropped connection fails the next query instead
  await c.connect();
  // (options in the URL itself take the place of those: then the settings are made the long way)
  if (/[?&]options=/i.test(p.url)) await c.query(`SET lock_timeout = ${Math.max(1, Math.floor(p.lockTimeoutMs))}; SET client_min_messages = 'warning'`);
  return c;
}
/** Idle side connections of each connection, kept for the next copyOut. */
const idleSides = new Map<number, pg.Client[]>();

/** Queued writes of a connection: the last in the chain, those not yet done and their bytes, and the first that failed. */
interface Queue {
  tail: Promise<void>;
  pending: Set<Promise<void>>;
  bytes: number;
  error: Reply['error'] | null;
  /** Whether session_replication_role is replica in the open transaction (a relaxed COPY set it). */
  replica: boolean;
  /** Queued writes marked `bump` that are done. */
  bumps: number;
  /** The last write queued with each tag, in order (those not yet awaited). */
  marks: { tag: number; done: Promise<void> }[];
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
  if (!q) queues.set(conn, (q = { tail: Promise.resolve(), pending: new Set(), bytes: 0, error: null, replica: false, bumps: 0, marks: [] }));
  return q;
}

function copy(c: pg.Client, text: string, data: string | Uint8Array): Promise<number> {
  const stream = c.query(streams().from(text));
  return new Promise<number>((resolve, reject) => {
    stream.on('finish', () => resolve(stream.rowCount));
    stream.on('error', reject);
    stream.end(typeof data === 'string' ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength));
  });
}

/** Chains writes after the connection's queued ones (each sent when the one before is done) and answers at once. */
async function enqueue(r: Extract<Request, { op: 'queue' }>): Promise<Reply> {
  const q = queueOf(r.conn);
  // The writes are done in the order they were queued (each chained after the one before), so the
  // oldest pending one is the next to finish: waiting on it alone, not on a race of all of them (a race
  // adds a reaction to every pending write each time round: quadratic with thousands queued).
  while (q.bytes > QUEUE_BYTES && q.pending.size) await q.pending.values().next().value;
  const c = client(r.conn);
  for (const w of r.items) {
    if (q.error) return {}; // the transaction is aborted already: the next waited request says why
    const size = w.data?.length ?? 0;
    q.bytes += size;
    const done: Promise<void> = q.tail
      .then(async () => {
        if (q.error) return; // (an earlier one failed: the server would refuse this one anyway)
        if (!w.ends) await replica(c, q, w.relaxed === true);
        if (w.data !== undefined) await copy(c, w.text, w.data);
        else await c.query({ text: w.text, values: w.values });
        if (w.bump) q.bumps++;
        if (w.ends) q.replica = false;
      })
      .catch((e: unknown) => {
        q.error ??= { ...errorOf(e), queued: true, text: w.text, tag: r.tag };
      })
      .finally(() => {
        q.bytes -= size;
        copied(size);
        q.pending.delete(done);
      });
    q.tail = done;
    q.pending.add(done);
    if (r.tag !== undefined) {
      const last = q.marks.at(-1);
      if (last?.tag === r.tag) last.done = done;
      else q.marks.push({ tag: r.tag, done });
    }
  }
  return {};
}

/** Waits for the queued writes tagged up to `tag` (they are done when the last of them is: they run in order). */
async function awaitTagged(r: Extract<Request, { op: 'await' }>): Promise<Reply> {
  const q = queues.get(r.conn);
  if (!q) return {};
  let last: Promise<void> | undefined;
  while (q.marks.length && q.marks[0].tag <= r.tag) last = q.marks.shift()!.done;
  if (last) await last;
  if (q.error && (q.error.tag === undefined || q.error.tag <= r.tag)) return { error: q.error };
  return {};
}

/**
 * Before a request that is not queued: waits for the queued writes, and answers with the first one's
 * error if one failed (kept until ROLLBACK, which clears it, or close).
 */
async function drain(r: Request): Promise<Reply | null> {
  // (requests by id are a copy-out's or a read-ahead's, on side connections of their own)
  const conn = 'conn' in r ? r.conn : undefined;
  const q = conn === undefined ? undefined : queues.get(conn);
  if (!q || conn === undefined) return null;
  await q.tail;
  const ends = r.op === 'close' || (r.op === 'exec' && /^\s*(ROLLBACK|COMMIT|END)\b/i.test(r.text));
  if (q.error) {
    if (!ends || r.op === 'exec' && /^\s*(COMMIT|END)\b/i.test(r.text)) return { error: q.error };
    q.error = null;
    q.marks = []; // (the writes after the failed one were skipped: nothing is left to wait for)
  }
  // (SET LOCAL ends with the transaction; anything else in it runs with the triggers on again)
  if (ends) q.replica = false;
  else if (q.replica) await replica(client(conn), q, false);
  return null;
}

/** A connection that broke under the client (the socket's errors, and pg's words for a client that lost it). */
const LOST = /Connection terminated|connection error|not queryable|server closed the connection|ECONNRESET|EPIPE|ETIMEDOUT/i;
function errorOf(e: unknown): NonNullable<Reply['error']> {
  const err = e as { message?: string; code?: string; detail?: string; constraint?: string };
  const message = String(err.message ?? e);
  // (a socket's codes are not SQLSTATEs: the store sees a broken connection as class 08, connection_failure)
  const code = (err.code === undefined || !/^[0-9A-Z]{5}$/.test(err.code)) && (LOST.test(message) || LOST.test(String(err.code))) ? '08006' : err.code;
  return { message, code, detail: err.detail, constraint: err.constraint };
}

/**
 * A new connection in place of one the server dropped (the same URL and settings): what was queued on the
 * old one is dropped with it (its transaction rolled back when the connection broke).
 */
async function reconnect(conn: number): Promise<Reply> {
  const p = params.get(conn);
  if (!p) throw new Error(`PostgreSQL connection ${conn} is not open`);
  void clients.get(conn)?.end().catch(() => undefined);
  for (const side of idleSides.get(conn) ?? []) void side.end().catch(() => undefined);
  idleSides.delete(conn);
  queues.delete(conn);
  const c = await openClient(p);
  if (p.share !== undefined) await c.query(`SELECT pg_try_advisory_lock_shared(${Math.trunc(p.share)})`);
  clients.set(conn, c);
  return {};
}

async function handle(r: Request): Promise<Reply> {
  if (r.op === 'queue') return enqueue(r);
  if (r.op === 'reconnect') return reconnect(r.conn);
  if (r.op === 'await') return awaitTagged(r);
  const failed = await drain(r);
  if (failed) return failed;
  switch (r.op) {
    case 'connect': {
      const c = await openClient(r);
      clients.set(r.conn, c);
      params.set(r.conn, { url: r.url, lockTimeoutMs: r.lockTimeoutMs, appName: r.appName, share: r.share });
      // (with `share`: the shared lock every command holds on the ledger while it runs, which init --force takes
      // alone. It comes first: while init holds it, the schema may be half erased, and nothing of it is read;
      // PgDatabase asks again until init has finished, then reads what init built.)
      if (r.share !== undefined) {
        const got = (await c.query({ text: `SELECT pg_try_advisory_lock_shared(${Math.trunc(r.share)})`, rowMode: 'array' })).rows[0] as [number];
        if (got[0] !== 1) return { schema: { hasSchema: false, version: 0, hasDataVersion: false, encoding: '', shared: false } };
      }
      // what opening a ledger asks first, answered here rather than by a round trip of the main thread each
      const facts = await c.query({
        text: `SELECT to_regclass('pointsmall_schema') IS NOT NULL, to_regclass('pm_data_version') IS NOT NULL, current_setting('server_encoding')`,
        rowMode: 'array',
      });
      const [hasSchema, hasDataVersion, encoding] = facts.rows[0] as [number, number, string];
      let version = 0;
      if (hasSchema) version = Number(((await c.query({ text: 'SELECT version FROM pointsmall_schema', rowMode: 'array' })).rows[0] as [number] | undefined)?.[0] ?? 0);
      return { schema: { hasSchema: hasSchema === 1, version, hasDataVersion: hasDataVersion === 1, encoding, ...(r.share !== undefined ? { shared: true } : {}) } };
    }
    case 'query': {
      const c = client(r.conn);
      const res = r.rowMode === 'array' ? await c.query({ name: r.name, text: r.text, values: r.values, rowMode: 'array' }) : await c.query({ name: r.name, text: r.text, values: r.values });
      return { rows: res.rows as unknown[], rowCount: res.rowCount };
    }
    case 'exec': {
      const c = client(r.conn);
      await c.query(r.text);
      // the driver remembers which named statements it parsed on the connection, and would not parse one
      // again after the server forgot it (a statement read before init --force erased the tables)
      if (/^\s*DEALLOCATE\s+ALL\b/i.test(r.text)) (c as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements = {};
      return {};
    }
    case 'copyIn':
      return { rowCount: await copy(client(r.conn), r.text, r.data) };
    case 'close': {
      const c = clients.get(r.conn);
      clients.delete(r.conn);
      for (const [id, o] of outgoing) if (o.conn === r.conn) closeOut(id);
      for (const [id, a] of ahead) if (a.conn === r.conn) closeAhead(id);
      for (const side of idleSides.get(r.conn) ?? []) await side.end().catch(() => undefined);
      idleSides.delete(r.conn);
      params.delete(r.conn);
      queues.delete(r.conn);
      if (c) await c.end().catch(() => undefined);
      return {};
    }
    case 'copyOutOpen':
      return openOut(r);
    case 'copyOutRead':
      return { text: await readOut(r.id) };
    case 'copyOutClose':
      closeOut(r.id);
      return {};
    case 'aheadOpen':
      return openAhead(r);
    case 'aheadGet': {
      const a = ahead.get(r.id);
      if (!a) throw new Error(`no statements ${r.id} run ahead`);
      const res = await a.results[r.index];
      return { rows: res.rows as unknown[], rowCount: res.rowCount };
    }
    case 'aheadClose':
      closeAhead(r.id);
      return {};
  }
}

// ---- COPY (query) TO STDOUT on a side connection: a bulk read streamed to the main thread in large chunks ----
// The side connection reads the main connection's snapshot (exported by it), so several such reads and the
// main connection's statements see one state of the ledger, as one transaction's would. The worker reads
// ahead while the main thread works through a chunk, up to READ_AHEAD bytes.

/** Bytes a read waits for before it answers (unless the COPY ends first): one message per chunk. */
const CHUNK = 1 << 20;
/** Bytes kept read ahead of the main thread before the server is made to wait. */
const READ_AHEAD = 8 << 20;

interface Outgoing {
  conn: number;
  client: pg.Client;
  stream: ReturnType<typeof CopyStreams.to>;
  chunks: Buffer[];
  size: number;
  ended: boolean;
  error: unknown;
  wake: (() => void) | null;
}
const outgoing = new Map<number, Outgoing>();

async function sideClient(conn: number): Promise<pg.Client> {
  const idle = idleSides.get(conn)?.pop();
  if (idle) return idle;
  const p = params.get(conn);
  if (!p) throw new Error(`PostgreSQL connection ${conn} is not open`);
  return openClient(p);
}

async function openOut(r: Extract<Request, { op: 'copyOutOpen' }>): Promise<Reply> {
  const c = await sideClient(r.conn);
  try {
    await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY${r.snapshot ? `; SET TRANSACTION SNAPSHOT '${r.snapshot.replace(/'/g, "''")}'` : ''}`);
    const shape = await c.query({ text: `SELECT * FROM (${r.text}) pm_shape LIMIT 0`, rowMode: 'array' });
    const stream = c.query(streams().to(`COPY (${r.text}) TO STDOUT`));
    const o: Outgoing = { conn: r.conn, client: c, stream, chunks: [], size: 0, ended: false, error: null, wake: null };
    const wake = () => {
      const w = o.wake;
      o.wake = null;
      w?.();
    };
    stream.on('data', (b: Buffer) => {
      o.chunks.push(b);
      o.size += b.length;
      if (o.size >= READ_AHEAD) stream.pause();
      if (o.size >= CHUNK) wake();
    });
    stream.on('end', () => {
      o.ended = true;
      wake();
    });
    stream.on('error', (e) => {
      o.error = e;
      wake();
    });
    outgoing.set(r.id, o);
    return { types: shape.fields.map((f) => f.dataTypeID) };
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
}

async function readOut(id: number): Promise<string> {
  const o = outgoing.get(id);
  if (!o) throw new Error(`no COPY ${id} is open`);
  while (!o.error && !o.ended && o.size < CHUNK) await new Promise<void>((resolve) => (o.wake = resolve));
  if (o.error) throw o.error;
  const all = o.chunks.length === 1 ? o.chunks[0] : Buffer.concat(o.chunks, o.size);
  // whole rows only: a line feed ends a row (one inside a value is escaped), and never falls inside a UTF-8 character
  const end = o.ended ? all.length : all.lastIndexOf(10) + 1;
  const rest = all.subarray(end);
  o.chunks = rest.length ? [rest] : [];
  o.size = rest.length;
  if (o.stream.isPaused() && !o.ended) o.stream.resume();
  return all.toString('utf8', 0, end);
}

/** Commits a side connection's read and keeps it for the next one, or closes it if that fails or its connection is gone. */
function releaseSide(conn: number, side: pg.Client): Promise<unknown> {
  return side.query('COMMIT').then(
    () => {
      if (!clients.has(conn)) return side.end().catch(() => undefined);
      const idle = idleSides.get(conn) ?? [];
      idle.push(side);
      idleSides.set(conn, idle);
    },
    () => side.end().catch(() => undefined),
  );
}

/** Ends a COPY: its side connection goes back to the idle ones when the COPY ran to its end, else it is closed. */
function closeOut(id: number): void {
  const o = outgoing.get(id);
  if (!o) return;
  outgoing.delete(id);
  if (o.ended && !o.error) {
    void releaseSide(o.conn, o.client);
  } else {
    o.stream.destroy();
    o.client.end().catch(() => undefined);
  }
}

workerServe(async (r: Request): Promise<Reply> => {
  let reply: Reply;
  try {
    reply = await handle(r);
  } catch (e) {
    reply = { error: errorOf(e) };
  }
  const q = 'conn' in r ? queues.get(r.conn) : undefined;
  if (q?.bumps) reply.bumps = q.bumps;
  return reply;
});

// ---- statements run ahead on a side connection, in the main connection's snapshot ----
// A read-only pass (ledger verify) starts its set-based checks here first; the server works through them
// while the main thread streams and hashes, and each result is taken when the pass reaches it.

interface Ahead {
  conn: number;
  client: pg.Client;
  results: Promise<pg.QueryResult>[];
}
const ahead = new Map<number, Ahead>();

async function openAhead(r: Extract<Request, { op: 'aheadOpen' }>): Promise<Reply> {
  const c = await sideClient(r.conn);
  try {
    await c.query(`BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY${r.snapshot ? `; SET TRANSACTION SNAPSHOT '${r.snapshot.replace(/'/g, "''")}'` : ''}`);
  } catch (e) {
    await c.end().catch(() => undefined);
    throw e;
  }
  // one after the other on the one connection; a failure is the reply of its own aheadGet
  const results: Promise<pg.QueryResult>[] = [];
  let last: Promise<unknown> = Promise.resolve();
  for (const text of r.texts) {
    const p = last.then(() => c.query(text));
    last = p.catch(() => undefined);
    results.push(p);
  }
  for (const p of results) p.catch(() => undefined);
  ahead.set(r.id, { conn: r.conn, client: c, results });
  return {};
}

/** Ends statements run ahead: the side connection goes back to the idle ones when all are done. */
function closeAhead(id: number): void {
  const a = ahead.get(id);
  if (!a) return;
  ahead.delete(id);
  void Promise.allSettled(a.results).then(() => releaseSide(a.conn, a.client));
}
