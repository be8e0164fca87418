// The notifications outbox: queued messages (order confirmations, expiring and expired points), never sent from here.
// A dedupe key makes a message queue at most once; export marks rows sent in one statement per batch.
import { chooseChannel, type Channel, type Contact } from '../domain/notifications.js';
import type Database from 'better-sqlite3';
import type { Store } from './db.js';

export interface OutboxRow {
  id: number;
  created_at: string;
  topic: string;
  member_id: string | null;
  channel: Channel;
  recipient: string | null;
  dedupe_key: string | null;
  payload: string;
  sent_at: string | null;
}

export interface NewNotification {
  createdAt: string;
  topic: string;
  memberId: string | null;
  payload: unknown;
  /** Same key twice queues once (the second enqueue is a no-op). */
  dedupeKey?: string | null;
  /** The member's contact when the caller already has it (saves a lookup in bulk runs). */
  contact?: Contact | null;
}

export interface Enqueued {
  id: number | null;
  queued: boolean;
}

export class Outbox {
  private readonly db;
  private readonly s;
  private readonly pg;
  constructor(store: Store) {
    this.db = store.db;
    this.pg = store.pg;
    this.s = {
      contact: this.db.prepare('SELECT phone, email FROM members WHERE id = ?'),
      insert: this.db.prepare(
        `INSERT INTO outbox (created_at, topic, member_id, channel, recipient, dedupe_key, payload)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(dedupe_key) DO NOTHING`,
      ),
      pending: this.db.prepare('SELECT * FROM outbox WHERE sent_at IS NULL ORDER BY id LIMIT ?'),
      all: this.db.prepare('SELECT * FROM outbox ORDER BY id LIMIT ?'),
      byKey: this.db.prepare('SELECT 1 FROM outbox WHERE dedupe_key = ?').pluck(),
      channelByKey: this.db.prepare('SELECT channel FROM outbox WHERE dedupe_key = ?').pluck(),
      markUpTo: this.db.prepare(
        `UPDATE outbox SET sent_at = ? WHERE sent_at IS NULL AND id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`,
      ),
      count: this.db.prepare(
        'SELECT count(*) AS total, coalesce(sum(sent_at IS NULL), 0) AS pending FROM outbox',
      ),
      stillPending: this.db
        .prepare(`SELECT id FROM outbox WHERE sent_at IS NULL AND id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))`)
        .pluck(),
    };
  }

  /** Queues one notification, reaching the member by phone (sms), else email, else none. */
  enqueue(n: NewNotification): Enqueued {
    const contact = n.contact !== undefined ? n.contact : n.memberId ? (this.s.contact.get(n.memberId) as Contact | undefined) : undefined;
    const d = chooseChannel(contact);
    const r = this.s.insert.run(
      n.createdAt,
      n.topic,
      n.memberId,
      d.channel,
      d.recipient,
      n.dedupeKey ?? null,
      JSON.stringify(n.payload ?? {}),
    );
    return r.changes ? { id: Number(r.lastInsertRowid), queued: true } : { id: null, queued: false };
  }

  /**
   * enqueue() of each notification in order, as one write: the same rows, ids and dedupe rule (a key
   * already queued, or met earlier in the list, queues nothing). Returns how many were queued. On
   * PostgreSQL the rows go by COPY into a temp table and then one INSERT … SELECT that numbers them as
   * SQLite would (the largest id plus one, in order), instead of a round trip per notification.
   */
  enqueueMany(list: readonly NewNotification[]): number {
    if (!this.pg || list.length < 50) {
      let n = 0;
      for (const x of list) if (this.enqueue(x).queued) n++;
      return n;
    }
    const args: unknown[] = [];
    const keys = new Set<string>();
    let seq = 0;
    for (const n of list) {
      if (n.dedupeKey != null) {
        if (keys.has(n.dedupeKey)) continue;
        keys.add(n.dedupeKey);
      }
      const contact = n.contact !== undefined ? n.contact : n.memberId ? (this.s.contact.get(n.memberId) as Contact | undefined) : undefined;
      const d = chooseChannel(contact);
      args.push(++seq, n.createdAt, n.topic, n.memberId, d.channel, d.recipient, n.dedupeKey ?? null, JSON.stringify(n.payload ?? {}));
    }
    // (queued inside a transaction: written while this process goes on, behind the writes queued before
    // them, such as an expiry run's lot moves; the INSERT below waits for them all)
    this.pg.runQueued(
      `CREATE TEMP TABLE IF NOT EXISTS outbox_in (seq BIGINT PRIMARY KEY, created_at TEXT NOT NULL, topic TEXT NOT NULL, member_id TEXT,
         channel TEXT NOT NULL, recipient TEXT, dedupe_key TEXT, payload TEXT NOT NULL) ON COMMIT DELETE ROWS`,
      [],
    );
    this.pg.runQueued('DELETE FROM temp.outbox_in', []);
    this.pg.copyRowsQueued('pg_temp.outbox_in', 'seq, created_at, topic, member_id, channel, recipient, dedupe_key, payload', 8, args);
    this.insertMany ??= this.db.prepare(
      `INSERT INTO outbox (id, created_at, topic, member_id, channel, recipient, dedupe_key, payload)
       SELECT (SELECT coalesce(max(id), 0) FROM outbox) + row_number() OVER (ORDER BY n.seq), n.created_at, n.topic, n.member_id,
              n.channel, n.recipient, n.dedupe_key, n.payload
         FROM temp.outbox_in n
        WHERE n.dedupe_key IS NULL OR NOT EXISTS (SELECT 1 FROM outbox o WHERE o.dedupe_key = n.dedupe_key)
       ON CONFLICT (dedupe_key) DO NOTHING`,
    );
    return this.insertMany.run().changes;
  }
  private insertMany: Database.Statement | undefined;

  /** The channel of the message queued under this key, if any. */
  channelOf(dedupeKey: string): Channel | undefined {
    return this.s.channelByKey.get(dedupeKey) as Channel | undefined;
  }

  has(dedupeKey: string): boolean {
    return this.s.byKey.get(dedupeKey) !== undefined;
  }

  list(f: { pending?: boolean; limit?: number } = {}): OutboxRow[] {
    const limit = f.limit ?? -1;
    return (f.pending ? this.s.pending : this.s.all).all(limit) as OutboxRow[];
  }

  /** Iterates rows without loading them all (export of a large outbox). */
  *iterate(f: { pending?: boolean } = {}): IterableIterator<OutboxRow> {
    yield* (f.pending ? this.s.pending : this.s.all).iterate(-1) as IterableIterator<OutboxRow>;
  }

  /** Which of the given ids are still pending (not marked sent since they were read). */
  stillPending(ids: readonly number[]): Set<number> {
    const out = new Set<number>();
    const CHUNK = 10000;
    for (let i = 0; i < ids.length; i += CHUNK) {
      for (const id of this.s.stillPending.all(JSON.stringify(ids.slice(i, i + CHUNK))) as (number | bigint)[]) out.add(Number(id));
    }
    return out;
  }

  /** Marks the given ids sent (those still pending); returns how many changed. Call inside store.write. */
  markSent(ids: readonly number[], at: string): number {
    let n = 0;
    const CHUNK = 10000;
    for (let i = 0; i < ids.length; i += CHUNK) {
      n += this.s.markUpTo.run(at, JSON.stringify(ids.slice(i, i + CHUNK))).changes;
    }
    return n;
  }

  counts(): { total: number; pending: number } {
    return this.s.count.get() as { total: number; pending: number };
  }
}

export const outbox = (store: Store): Outbox => new Outbox(store);
