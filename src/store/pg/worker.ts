// The PostgreSQL side of the synchronous bridge: a worker thread holding the `pg` connections. The main
// thread asks through synckit and blocks until the answer, so the store keeps one synchronous API on both
// backends (better-sqlite3 is synchronous; pg is not). One message is one round trip to the server.
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
  | { op: 'close'; conn: number };

export interface Reply {
  rows?: unknown[];
  rowCount?: number | null;
  error?: { message: string; code?: string; detail?: string; constraint?: string };
}

const clients = new Map<number, pg.Client>();

function client(conn: number): pg.Client {
  const c = clients.get(conn);
  if (!c) throw new Error(`PostgreSQL connection ${conn} is not open`);
  return c;
}

async function handle(r: Request): Promise<Reply> {
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
    case 'copyIn': {
      const stream = client(r.conn).query(copyFrom(r.text));
      await new Promise<void>((resolve, reject) => {
        stream.on('finish', resolve);
        stream.on('error', reject);
        stream.end(r.data);
      });
      return { rowCount: stream.rowCount };
    }
    case 'close': {
      const c = clients.get(r.conn);
      clients.delete(r.conn);
      if (c) await c.end().catch(() => undefined);
      return {};
    }
  }
}

runAsWorker(async (r: Request): Promise<Reply> => {
  try {
    return await handle(r);
  } catch (e) {
    const err = e as { message?: string; code?: string; detail?: string; constraint?: string };
    return { error: { message: String(err.message ?? e), code: err.code, detail: err.detail, constraint: err.constraint } };
  }
});
