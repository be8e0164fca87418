// The journal: hash-chained entries whose postings sum to zero, lots and lot moves, and the
// member balance caches they keep. Every write of points goes through here.
import crypto, { createHash, createHmac } from 'node:crypto';
import { UsageError } from '../errors.js';
import { expiryRef } from '../domain/expiry.js';
import type { OpenLot } from '../domain/lots.js';
import type { Store } from './db.js';
import type Database from 'better-sqlite3';

export type Account = 'member' | 'held' | 'issued' | 'redeemed' | 'expired' | 'adjusted';

export interface NewPosting {
  account: Account;
  memberId: string | null;
  points: number;
}

export interface NewEntry {
  at: string; // business time, UTC ISO
  kind: string;
  memberId: string | null;
  ref?: string | null;
  memo?: string | null;
  postings: NewPosting[];
}

export interface EntryRow {
  id: number;
  at: string;
  recorded_at: string;
  kind: string;
  member_id: string | null;
  ref: string | null;
  memo: string | null;
  operator: string;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

/** The hashed content of an entry: every field and every posting, in order. */
export function entryContent(e: Omit<EntryRow, 'prev_hash' | 'hash'>, postings: readonly NewPosting[]): string {
  let s = `${e.id}|${e.at}|${e.recorded_at}|${e.kind}|${e.member_id ?? ''}|${e.ref ?? ''}|${e.memo ?? ''}|${e.operator}`;
  for (const p of postings) s += `|${p.account}:${p.memberId ?? ''}:${p.points}`;
  return s;
}

/**
 * entryContent of an entry without a memo whose two postings move `points` of one member from one
 * account to another (an import's accrual or return): the same text, built without the row and posting
 * objects (an import hashes ~250,000 of them on its writer thread).
 */
export function movedContent(id: number, at: string, recordedAt: string, kind: string, memberId: string, ref: string, operator: string, from: Account, to: Account, points: number): string {
  return `${id}|${at}|${recordedAt}|${kind}|${memberId}|${ref}||${operator}|${from}:${memberId}:${-points}|${to}:${memberId}:${points}`;
}

// crypto.hash (Node ≥ 20.12): one call, no Hash object per entry; the same digest of the same bytes.
const oneShot = (crypto as unknown as { hash?: (alg: string, data: string, enc: 'hex') => string }).hash;

export function chainHash(prevHash: string, content: string): string {
  if (oneShot) return oneShot('sha256', `${prevHash}\n${content}`, 'hex');
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

/** A keyed entry's hash: HMAC-SHA256 with the key kept outside the ledger, over the same bytes as chainHash. */
export function chainMac(key: Buffer, prevHash: string, content: string): string {
  return createHmac('sha256', key).update(prevHash).update('\n').update(content).digest('hex');
}

/** Settings key: the first entry of a keyed chain (absent = the chain is plain). */
export const CHAIN_KEYED_FROM = 'chain_keyed_from';

/**
 * A lot move that reverses an expiry: a take-back's positive move (a purchase void, a return or a refund's
 * earned points give no points back to lots but these, each followed by its take from the same lot; a
 * refund's points given back are another entry, without `issued`). `e` the move's entry, `m` the move.
 */
const REOPENED = "(e.kind IN ('void', 'return', 'refund') AND m.points > 0 AND EXISTS (SELECT 1 FROM postings rp WHERE rp.entry_id = e.id AND rp.account = 'issued' AND rp.points > 0))";

/** The lot `l`'s own purchase was taken back by a void since (its accrual `ae`'s key voided after it). */
const ACCRUAL_VOIDED = "(ae.kind = 'accrual' AND EXISTS (SELECT 1 FROM entries v WHERE v.member_id = l.member_id AND v.kind = 'void' AND v.ref = ae.ref AND v.id > ae.id))";

/** A lot of which expiry runs expired points (journal.expiredLots). */
export interface ExpiredLot {
  id: number;
  earnedAt: string;
  expiresOn: string | null;
  /** Points expired of it, less what take-backs reopened of it. */
  expired: number;
}

const INSERT_ENTRY = 'INSERT INTO entries (id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)';
const INSERT_POSTING = 'INSERT INTO postings (entry_id, account, member_id, points) VALUES (?,?,?,?)';
/**
 * Whether an entry is the member's own activity (members.last_activity_at, report members' lastActivity):
 * not an expiry the expiry run posted, nor the release of a hold that ran out (trial 28).
 */
export const memberActivity = (e: { kind: string; memo?: string | null }): boolean => e.kind !== 'expiry' && !(e.kind === 'release' && e.memo === 'expired');
/** The same test in SQL, of an entry `e`. */
export const MEMBER_ACTIVITY_SQL = "e.kind <> 'expiry' AND NOT (e.kind = 'release' AND coalesce(e.memo, '') = 'expired')";
// A move that is not the member's activity: it leaves last_activity_at alone (NULL keeps the old value).
const MEMBER_CACHE = `UPDATE members SET balance = balance + ?, held = held + ?, lifetime_earned = lifetime_earned + ?,
                last_activity_at = coalesce(max(coalesce(last_activity_at, ''), ?), last_activity_at) WHERE id = ?`;
const ADD_DEBT = 'UPDATE members SET debt = debt + ? WHERE id = ?';

export class Journal {
  private readonly store: Store;
  private txSerial = -1;
  private lastId = 0;
  private lastHash = GENESIS_HASH;
  private keyedFrom: number | null = null;
  private readonly s;

  constructor(store: Store) {
    this.store = store;
    const db = store.db;
    this.s = {
      last: db.prepare('SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1'),
      insertEntry: db.prepare(INSERT_ENTRY),
      insertPosting: db.prepare(INSERT_POSTING),
      memberCache: db.prepare(MEMBER_CACHE),
      insertLot: db.prepare('INSERT INTO lots (member_id, entry_id, points, remaining, earned_at, expires_on) VALUES (?,?,?,?,?,?)'),
      insertMove: db.prepare('INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (?,?,?)'),
      moveRemaining: db.prepare('UPDATE lots SET remaining = remaining + ? WHERE id = ?'),
      lotOf: db.prepare('SELECT member_id AS memberId, remaining, earned_at AS earnedAt, expires_on AS expiresOn FROM lots WHERE id = ?'),
      openLots: db.prepare(
        `SELECT id, remaining, earned_at AS earnedAt, expires_on AS expiresOn FROM lots
          WHERE member_id = ? AND remaining > 0
          ORDER BY expires_on IS NULL, expires_on, earned_at, id`,
      ),
      addDebt: db.prepare(ADD_DEBT),
      lastLot: db.prepare('SELECT COALESCE(MAX(id), 0) FROM lots').pluck(),
      lotsOfMembers: undefined as Database.Statement | undefined,
      lotsById: undefined as Database.Statement | undefined,
      keyedFrom: db.prepare(`SELECT value FROM settings WHERE key = '${CHAIN_KEYED_FROM}'`).pluck(),
      setKeyedFrom: db.prepare(`INSERT INTO settings (key, value) VALUES ('${CHAIN_KEYED_FROM}', ?)`),
      entry: db.prepare('SELECT id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash FROM entries WHERE id = ?'),
      postingsOf: db.prepare('SELECT account, member_id AS memberId, points FROM postings WHERE entry_id = ? ORDER BY rowid'),
    };
  }

  private syncChain(): void {
    if (this.txSerial === this.store.txSerial) return;
    const row = this.s.last.get() as { id: number; hash: string } | undefined;
    this.lastId = row?.id ?? 0;
    this.lastHash = row?.hash ?? GENESIS_HASH;
    const from = this.s.keyedFrom.get() as string | undefined;
    this.keyedFrom = from === undefined ? null : Number(from);
    this.txSerial = this.store.txSerial;
    if (this.keyedFrom !== null && !this.store.chainKey) {
      throw new UsageError(
        `this ledger's chain is keyed from entry ${this.keyedFrom}: nothing is written without its key`,
        'set POINTSMALL_LEDGER_KEY_FILE to the key file the ledger was written with',
        'LEDGER_KEYED',
      );
    }
    this.checkKey();
  }

  /**
   * A keyed chain is continued only with its own key: the head entry's MAC is checked with the key in hand
   * before anything is appended (once a transaction). Another key would write entries no key verifies
   * afterwards, and verify would call honest entries edited.
   */
  private checkKey(): void {
    const key = this.store.chainKey;
    if (!key || this.keyedFrom === null || this.lastId < this.keyedFrom) return;
    const e = this.s.entry.get(this.lastId) as Omit<EntryRow, 'hash'> | undefined;
    if (e && chainMac(key, e.prev_hash, entryContent(e, this.s.postingsOf.all(this.lastId) as NewPosting[])) === this.lastHash) return;
    throw new UsageError(
      `entry ${this.lastId}, the head of this ledger's keyed chain, does not verify with the key in POINTSMALL_LEDGER_KEY_FILE: it is another key than the one the chain is written with (or the entry was edited); nothing written`,
      'set POINTSMALL_LEDGER_KEY_FILE to the key file the ledger was written with; pointsmall ledger verify with it says which entry, if any, was edited',
      'LEDGER_KEY_MISMATCH',
    );
  }

  /**
   * The hash entry `id` gets: plain SHA-256, or with a key file a keyed MAC from the first entry written
   * with it on (recorded in settings in the same transaction, so verify knows where the MACs begin).
   */
  hashEntry(id: number, prevHash: string, content: string): string {
    const key = this.store.chainKey;
    if (!key) return chainHash(prevHash, content);
    if (this.keyedFrom === null) {
      this.keyedFrom = id;
      this.s.setKeyedFrom.run(String(id));
    }
    return id >= this.keyedFrom ? chainMac(key, prevHash, content) : chainHash(prevHash, content);
  }

  /**
   * Appends one entry with its postings (which must sum to zero) and updates the member caches.
   * Must run inside store.write(). Returns the entry id.
   */
  post(e: NewEntry, operator: string, recordedAt: string): number {
    let sum = 0;
    for (const p of e.postings) {
      if (!Number.isSafeInteger(p.points)) throw new Error(`posting of ${p.points} points is not a safe integer`);
      sum += p.points;
    }
    if (sum !== 0) throw new Error(`entry ${e.kind} does not balance: postings sum to ${sum}`);
    this.syncChain();
    const row = {
      id: this.lastId + 1,
      at: e.at,
      recorded_at: recordedAt,
      kind: e.kind,
      member_id: e.memberId,
      ref: e.ref ?? null,
      memo: e.memo ?? null,
      operator,
    };
    const hash = this.hashEntry(row.id, this.lastHash, entryContent(row, e.postings));
    const queue = this.queue();
    if (queue) this.insertRows('entries', 10, [row.id, row.at, row.recorded_at, row.kind, row.member_id, row.ref, row.memo, row.operator, this.lastHash, hash]);
    else this.s.insertEntry.run(row.id, row.at, row.recorded_at, row.kind, row.member_id, row.ref, row.memo, row.operator, this.lastHash, hash);
    this.lastId = row.id;
    this.lastHash = hash;
    // One cache update per member touched, not per posting.
    const perMember = new Map<string, { balance: number; held: number; earned: number }>();
    for (const p of e.postings) {
      if (queue) this.insertRows('postings', 4, [row.id, p.account, p.memberId, p.points]);
      else this.s.insertPosting.run(row.id, p.account, p.memberId, p.points);
      if (p.memberId === null || p.points === 0) continue;
      let m = perMember.get(p.memberId);
      if (!m) perMember.set(p.memberId, (m = { balance: 0, held: 0, earned: 0 }));
      if (p.account === 'member') m.balance += p.points;
      else if (p.account === 'held') {
        m.balance += p.points;
        m.held += p.points;
      } else if (p.account === 'issued') m.earned -= p.points;
    }
    const activityAt = memberActivity(e) ? e.at : null;
    for (const [id, m] of perMember) {
      if (queue) queue.runQueued(MEMBER_CACHE, [m.balance, m.held, m.earned, activityAt, id]);
      else this.s.memberCache.run(m.balance, m.held, m.earned, activityAt, id);
    }
    return row.id;
  }

  /**
   * Runs `fn` with post() and addDebt() queuing their writes on PostgreSQL (entries and postings joining
   * a queued COPY, as postMany's do; the caches' updates runQueued) instead of waiting for each: a void of thousands of orders then writes without a round trip per row. A read in between
   * still sees them (it sends what is queued first, and a failed write fails it, and with it the
   * transaction). Only for callers that need nothing back from those writes. SQLite: no difference.
   */
  pipelined<T>(fn: () => T): T {
    const was = this.pipelining;
    this.pipelining = true;
    try {
      return fn();
    } finally {
      this.pipelining = was;
    }
  }
  private pipelining = false;
  private queue() {
    return this.pipelining ? this.store.pg : null;
  }

  /**
   * post() for many entries at once (bulk imports): the same rows, hashes and member caches, written
   * set-based — multi-row inserts, and one cache update per member for the whole list. Must run
   * inside store.write(). Returns the entry ids in order.
   */
  postMany(list: readonly NewEntry[], operator: string, recordedAt: string): number[] {
    if (!list.length) return [];
    this.syncChain();
    const ids: number[] = [];
    const entryArgs: unknown[] = [];
    const postingArgs: unknown[] = [];
    const perMember = new Map<string, { balance: number; held: number; earned: number; at: string | null }>();
    for (const e of list) {
      let sum = 0;
      for (const p of e.postings) {
        if (!Number.isSafeInteger(p.points)) throw new Error(`posting of ${p.points} points is not a safe integer`);
        sum += p.points;
      }
      if (sum !== 0) throw new Error(`entry ${e.kind} does not balance: postings sum to ${sum}`);
      const row = { id: this.lastId + 1, at: e.at, recorded_at: recordedAt, kind: e.kind, member_id: e.memberId, ref: e.ref ?? null, memo: e.memo ?? null, operator };
      const hash = this.hashEntry(row.id, this.lastHash, entryContent(row, e.postings));
      entryArgs.push(row.id, row.at, row.recorded_at, row.kind, row.member_id, row.ref, row.memo, row.operator, this.lastHash, hash);
      this.lastId = row.id;
      this.lastHash = hash;
      ids.push(row.id);
      const activityAt = memberActivity(e) ? e.at : null;
      for (const p of e.postings) {
        postingArgs.push(row.id, p.account, p.memberId, p.points);
        if (p.memberId === null || p.points === 0) continue;
        let m = perMember.get(p.memberId);
        if (!m) perMember.set(p.memberId, (m = { balance: 0, held: 0, earned: 0, at: null }));
        if (p.account === 'member') m.balance += p.points;
        else if (p.account === 'held') {
          m.balance += p.points;
          m.held += p.points;
        } else if (p.account === 'issued') m.earned -= p.points;
        if (activityAt !== null && (m.at === null || activityAt > m.at)) m.at = activityAt;
      }
    }
    this.insertRows('entries', 10, entryArgs);
    this.insertRows('postings', 4, postingArgs);
    this.addToCaches(perMember);
    return ids;
  }

  private cachesMany?: Database.Statement;
  /**
   * Adds to the member caches what entries posted without them changed (postMany, appendPlanned):
   * 50 members per statement (UPDATE … FROM VALUES).
   */
  addToCaches(perMember: Map<string, { balance: number; held: number; earned: number; at: string | null }>): void {
    if (this.store.pg && perMember.size > 1) {
      // PostgreSQL: every member in one statement (arrays unnested), queued: nothing waits for it
      const ids: string[] = [];
      const balance: number[] = [];
      const held: number[] = [];
      const earned: number[] = [];
      const at: (string | null)[] = [];
      for (const [id, m] of perMember) {
        ids.push(id);
        balance.push(m.balance);
        held.push(m.held);
        earned.push(m.earned);
        at.push(m.at);
      }
      this.store.pg.runQueued(
        `UPDATE members SET balance = members.balance + v.add_balance, held = members.held + v.add_held, lifetime_earned = members.lifetime_earned + v.add_earned,
                last_activity_at = CASE WHEN v.active_at IS NULL OR v.active_at <= coalesce(members.last_activity_at, '') THEN members.last_activity_at ELSE v.active_at END
           FROM unnest(?::text[], ?::bigint[], ?::bigint[], ?::bigint[], ?::text[]) AS v(id, add_balance, add_held, add_earned, active_at) WHERE members.id = v.id`,
        [ids, balance, held, earned, at],
      );
      return;
    }
    const PER = 50;
    // PostgreSQL types a VALUES list by its rows: the first row's casts type the lot
    const rows = Array(PER).fill('(?,?,?,?,?)');
    if (this.store.pg) rows[0] = '(?::text,?::bigint,?::bigint,?::bigint,?::text)';
    this.cachesMany ??= this.store.db.prepare(
      `UPDATE OR FAIL members SET balance = balance + v.column2, held = held + v.column3, lifetime_earned = lifetime_earned + v.column4,
              last_activity_at = coalesce(max(coalesce(last_activity_at, ''), v.column5), last_activity_at)
         FROM (VALUES ${rows.join(',')}) AS v WHERE members.id = v.column1`,
    );
    const args: unknown[] = new Array(PER * 5);
    let n = 0;
    for (const [id, m] of perMember) {
      if (n === PER * 5) {
        this.cachesMany.run(...args);
        n = 0;
      }
      args[n++] = id;
      args[n++] = m.balance;
      args[n++] = m.held;
      args[n++] = m.earned;
      args[n++] = m.at;
    }
    if (n === PER * 5) this.cachesMany.run(...args);
    else for (let i = 0; i < n; i += 5) this.s.memberCache.run(args[i + 1], args[i + 2], args[i + 3], args[i + 4], args[i]);
  }


  /** The chain's head: the last entry's id and hash (0 and the genesis hash when there is none). */
  /** Where the chain ends in this transaction (entries appended by it included). */
  end(): { id: number; hash: string } {
    this.syncChain();
    return { id: this.lastId, hash: this.lastHash };
  }

  head(): { id: number; hash: string } {
    const row = this.s.last.get() as { id: number; hash: string } | undefined;
    return { id: row?.id ?? 0, hash: row?.hash ?? GENESIS_HASH };
  }

  /**
   * Appends entries whose ids were worked out ahead from head() (an import's plan, see
   * services/importPlan.ts) and hashes from end(), with their postings, set-based: `entryArgs` 10 values per entry in the
   * columns' order, `postingArgs` 4 per posting. The first must continue the chain where it is now.
   * Member caches are the caller's: see addToCaches. Must run inside store.write().
   */
  appendPlanned(entryArgs: unknown[], postingArgs: unknown[]): void {
    if (!entryArgs.length) return;
    this.syncChain();
    if (entryArgs[0] !== this.lastId + 1 || entryArgs[8] !== this.lastHash) {
      throw new Error(`planned entries begin at ${String(entryArgs[0])} after ${String(entryArgs[8]).slice(0, 12)}…, but the chain ends at ${this.lastId} ${this.lastHash.slice(0, 12)}…`);
    }
    if (this.store.pg) this.insertRows('entries', 10, entryArgs);
    else this.insertPlannedEntries(entryArgs);
    this.insertRows('postings', 4, postingArgs);
    this.lastId = entryArgs[entryArgs.length - 10] as number;
    this.lastHash = entryArgs[entryArgs.length - 1] as string;
  }

  /** Lots given as `args`, 6 values per lot: member, entry, points, remaining, earned at, expires on. */
  createLotRows(args: unknown[]): void {
    this.insertRows('lots', 6, args);
  }

  private planned?: { many: Database.Statement; buf: unknown[]; shared: { recorded: unknown; operator: unknown } };
  /**
   * insertRows('entries') for planned entries on SQLite: their recorded time and operator are one pair
   * for the whole import and their memo is empty, so a statement binds those once, not per row (7
   * values a row instead of 10). Rows that differ go through insertRows.
   */
  private insertPlannedEntries(args: unknown[]): void {
    const PER = 50;
    const W = 10;
    if (!this.planned) {
      const row = '(?,?,@recorded,?,?,?,NULL,@operator,?,?)';
      const many = this.store.db.prepare(`INSERT OR FAIL INTO entries (id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash) VALUES ${Array(PER).fill(row).join(',')}`);
      const shared = { recorded: null as unknown, operator: null as unknown };
      const buf = new Array(PER * 7 + 1);
      buf[PER * 7] = shared;
      this.planned = { many, buf, shared };
    }
    const { many, buf, shared } = this.planned;
    const chunk = PER * W;
    let i = 0;
    for (; i + chunk <= args.length; i += chunk) {
      const recorded = args[i + 2];
      const operator = args[i + 7];
      let same = true;
      for (let k = i, b = 0; k < i + chunk; k += W) {
        if (args[k + 2] !== recorded || args[k + 7] !== operator || args[k + 6] !== null) {
          same = false;
          break;
        }
        buf[b++] = args[k];
        buf[b++] = args[k + 1];
        buf[b++] = args[k + 3];
        buf[b++] = args[k + 4];
        buf[b++] = args[k + 5];
        buf[b++] = args[k + 8];
        buf[b++] = args[k + 9];
      }
      if (!same) break;
      shared.recorded = recorded;
      shared.operator = operator;
      many.run(...buf);
    }
    if (i < args.length) this.insertRows('entries', W, i ? args.slice(i) : args);
  }

  private bulk = new Map<string, { one: Database.Statement; many: Database.Statement; buf: unknown[] }>();
  /** Inserts rows of `width` values each, 50 rows per statement (prepared once per table). */
  private insertRows(table: 'entries' | 'postings' | 'lots', width: number, args: unknown[]): void {
    const PER = 50;
    const cols = {
      entries: 'id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash',
      postings: 'entry_id, account, member_id, points',
      lots: 'member_id, entry_id, points, remaining, earned_at, expires_on',
    }[table];
    if (this.store.pg) {
      // PostgreSQL: COPY, queued (the server writes while the caller goes on); lots numbered here
      if (table === 'lots') this.store.pg.copyRowsQueued(table, `id, ${cols}`, width + 1, this.numberLots(args));
      else this.store.pg.copyRowsQueued(table, cols, width, args);
      return;
    }
    let b = this.bulk.get(table);
    if (!b) {
      const row = `(${Array(width).fill('?').join(',')})`;
      const db = this.store.db;
      // OR FAIL: a failing row fails the statement without undoing the rows before it, so SQLite keeps
      // no statement journal (a copy of every page the statement touches); the error still ends the
      // whole transaction, which Store.write rolls back.
      b = { one: db.prepare(`INSERT INTO ${table} (${cols}) VALUES ${row}`), many: db.prepare(`INSERT OR FAIL INTO ${table} (${cols}) VALUES ${Array(PER).fill(row).join(',')}`), buf: new Array(PER * width) };
      this.bulk.set(table, b);
    }
    const chunk = PER * width;
    let i = 0;
    // the values pass through one reused array: no garbage per statement
    for (; i + chunk <= args.length; i += chunk) {
      for (let k = 0; k < chunk; k++) b.buf[k] = args[i + k];
      b.many.run(...b.buf); // spread: bound from the call's arguments, no lookup per array element
    }
    for (; i < args.length; i += width) b.one.run(args.slice(i, i + width));
  }

  /** The last lot id this transaction knows of (PostgreSQL's bulk path numbers its lots itself). */
  private lots: { tx: number; last: number } | null = null;
  /**
   * Lots' rows (6 values each) with ids put first, the next ones after the largest, as SQLite's rowid
   * (and PostgreSQL's rowid trigger, which a row given its id skips) would number them: writers take
   * turns, so nobody else adds lots meanwhile.
   */
  private numberLots(args: unknown[]): unknown[] {
    this.lastLotKnown();
    const lots = this.lots!;
    const f = this.followedLots();
    const out: unknown[] = new Array((args.length / 6) * 7);
    for (let i = 0, o = 0; i < args.length; i += 6) {
      const id = ++lots.last;
      out[o++] = id;
      for (let k = 0; k < 6; k++) out[o++] = args[i + k];
      const mine = f?.byMember.get(args[i] as string);
      if (mine) {
        const lot: OpenLot = { id, remaining: args[i + 3] as number, earnedAt: args[i + 4] as string, expiresOn: (args[i + 5] as string | null) ?? null };
        mine.push(lot);
        f!.byId.set(id, lot);
      }
    }
    return out;
  }

  private lastLotKnown(): void {
    if (this.lots?.tx !== this.store.txSerial) this.lots = { tx: this.store.txSerial, last: this.s.lastLot.get() as number };
  }

  /** Open lots kept in memory in this transaction, for the members followOpenLots named (PostgreSQL). */
  private followed: { tx: number; byMember: Map<string, OpenLot[]>; byId: Map<number, OpenLot> } | null = null;
  private followedLots(): { byMember: Map<string, OpenLot[]>; byId: Map<number, OpenLot> } | null {
    return this.followed?.tx === this.store.txSerial ? this.followed : null;
  }

  /**
   * PostgreSQL, for an import's returns (services/importPlan.ts): reads the open lots of these members
   * now, in one statement (and where lot ids go on from), and from then on in this transaction answers
   * openLots() of them from memory, kept current by the lots this journal writes and moves. A return then
   * waits for nothing, where a read would wait for every write queued before it. (SQLite: nothing to do.)
   */
  followOpenLots(memberIds: readonly string[]): void {
    if (!this.store.pg) return;
    this.flushLotRemaining();
    this.lastLotKnown();
    const f = this.followedLots() ?? (this.followed = { tx: this.store.txSerial, byMember: new Map(), byId: new Map() });
    const fresh = [...new Set(memberIds)].filter((id) => !f.byMember.has(id));
    if (!fresh.length) return;
    this.s.lotsOfMembers ??= this.store.db.prepare(
      'SELECT member_id, id, remaining, earned_at, expires_on FROM lots WHERE member_id = ANY(?::text[]) AND remaining > 0',
    ).raw();
    for (const id of fresh) f.byMember.set(id, []);
    for (const [member, id, remaining, earnedAt, expiresOn] of this.s.lotsOfMembers.all([fresh]) as [string, number, number, string, string | null][]) {
      const lot: OpenLot = { id, remaining, earnedAt, expiresOn };
      f.byMember.get(member)!.push(lot);
      f.byId.set(id, lot);
    }
  }

  /**
   * PostgreSQL, for a void's returns: follows these lots too (of the members followOpenLots follows),
   * emptied ones included, so that giving points back to them is queued like any move of a followed lot.
   */
  followLots(lotIds: readonly number[]): void {
    const f = this.followedLots();
    if (!f || !lotIds.length) return;
    const fresh = [...new Set(lotIds)].filter((id) => !f.byId.has(id));
    if (!fresh.length) return;
    this.flushLotRemaining();
    this.s.lotsById ??= this.store.db.prepare('SELECT member_id, id, remaining, earned_at, expires_on FROM lots WHERE id = ANY(?::bigint[])').raw();
    for (const [member, id, remaining, earnedAt, expiresOn] of this.s.lotsById.all([fresh]) as [string, number, number, string, string | null][]) {
      this.follow(member, { id: Number(id), remaining: Number(remaining), earnedAt, expiresOn });
    }
  }

  /** Creates a lot (a credit with its own expiresOn). */
  createLot(entryId: number, memberId: string, points: number, earnedAt: string, expiresOn: string | null): number {
    this.flushLotRemaining();
    this.lots = null; // numbered by the server: numberLots reads the last one again
    const id = Number(this.s.insertLot.run(memberId, entryId, points, points, earnedAt, expiresOn).lastInsertRowid);
    this.follow(memberId, { id, remaining: points, earnedAt, expiresOn });
    return id;
  }

  /** Adds a lot that now holds points to its member's followed lots, when followOpenLots follows the member. */
  private follow(memberId: string, lot: OpenLot): void {
    const f = this.followedLots();
    const mine = f?.byMember.get(memberId);
    if (!mine) return;
    mine.push(lot);
    f!.byId.set(lot.id, lot);
  }

  /** Records a movement on a lot (negative takes, positive gives back) and updates its remaining cache. */
  moveLot(entryId: number, lotId: number, points: number): void {
    if (points === 0) return;
    const lot = this.followedLots()?.byId.get(lotId);
    if (lot && this.store.pg) {
      // a lot followed in memory (PostgreSQL, an import's return): its writes are queued
      lot.remaining += points;
      this.store.pg.copyRowsQueued('lot_moves', 'entry_id, lot_id, points', 3, [entryId, lotId, points]);
      // the lot's remaining is written with the others, in one statement (flushLotRemaining)
      let r = this.remainingMoves;
      if (r?.tx !== this.store.txSerial) r = this.remainingMoves = { tx: this.store.txSerial, by: new Map() };
      r.by.set(lotId, (r.by.get(lotId) ?? 0) + points);
      return;
    }
    this.s.insertMove.run(entryId, lotId, points);
    this.s.moveRemaining.run(points, lotId);
    // a lot not followed gained points (a void giving a return's points back to an emptied lot): followed
    // from now on when its member is
    if (points > 0 && this.followedLots()) {
      const row = this.s.lotOf.get(lotId) as { memberId: string; remaining: number; earnedAt: string; expiresOn: string | null };
      this.follow(row.memberId, { id: lotId, remaining: Number(row.remaining), earnedAt: row.earnedAt, expiresOn: row.expiresOn });
    }
  }

  /** The member's lots with points left, in spending order (§4.4). */
  openLots(memberId: string): OpenLot[] {
    const mine = this.followedLots()?.byMember.get(memberId);
    if (mine) return mine.filter((l) => l.remaining > 0).map((l) => ({ ...l }));
    this.flushLotRemaining();
    return this.s.openLots.all(memberId) as OpenLot[];
  }

  private voidStmts?: { own: Database.Statement; expired: Database.Statement; remaining: Database.Statement; voidedOwn: Database.Statement; taken: Database.Statement };
  private voidQueries() {
    const db = this.store.db;
    const ids = 'SELECT CAST(value AS INTEGER) FROM json_each(?)';
    return (this.voidStmts ??= {
      // the lots these entries created, with what expiry runs took from each (read once per void)
      own: db.prepare(
        `SELECT l.entry_id AS entryId, l.id AS lotId, coalesce(x.expired, 0) AS expired
           FROM lots l LEFT JOIN (SELECT m.lot_id, -sum(m.points) AS expired FROM lot_moves m JOIN entries e ON e.id = m.entry_id
                                   WHERE (e.kind = 'expiry' OR ${REOPENED}) AND m.lot_id IN (SELECT id FROM lots WHERE entry_id IN (${ids}))
                                   GROUP BY m.lot_id) x ON x.lot_id = l.id
          WHERE l.entry_id IN (${ids}) ORDER BY l.id`,
      ),
      // the members' lots with points expired (less what take-backs reopened of them), but those whose own
      // accrual a void took back already, live on the day or later
      expired: db.prepare(
        `SELECT l.member_id AS memberId, l.id, l.earned_at AS earnedAt, l.expires_on AS expiresOn, x.expired
           FROM (SELECT m.lot_id, -sum(m.points) AS expired
                   FROM lots xl JOIN lot_moves m ON m.lot_id = xl.id JOIN entries e ON e.id = m.entry_id
                  WHERE xl.member_id IN (SELECT value FROM json_each(?)) AND xl.expires_on >= ? AND (e.kind = 'expiry' OR ${REOPENED})
                  GROUP BY m.lot_id) x
           JOIN lots l ON l.id = x.lot_id
           JOIN entries ae ON ae.id = l.entry_id
          WHERE x.expired > 0
            AND NOT ${ACCRUAL_VOIDED}
          ORDER BY l.id`,
      ),
      remaining: db.prepare('SELECT remaining FROM lots WHERE id = ?').pluck(),
      // of these lots, those an accrual created whose purchase a void took back since
      voidedOwn: db.prepare(
        `SELECT l.id FROM lots l JOIN entries ae ON ae.id = l.entry_id
          WHERE l.id IN (${ids}) AND ${ACCRUAL_VOIDED}`,
      ).pluck(),
      // what these entries took from lots, in the order they took it (§4.4's spending order)
      taken: db.prepare(
        `SELECT m.entry_id AS entryId, m.lot_id AS lotId, -m.points AS points
           FROM lot_moves m JOIN lots l ON l.id = m.lot_id
          WHERE m.entry_id IN (${ids}) AND m.points < 0
          ORDER BY m.entry_id, l.expires_on IS NULL, l.expires_on, l.earned_at, l.id`,
      ),
    });
  }

  /** The lots the entries created (lots.entry_id), per entry, with the points expiry runs expired of each. */
  lotsCreatedBy(entryIds: readonly number[]): Map<number, { lotId: number; expired: number }[]> {
    const out = new Map<number, { lotId: number; expired: number }[]>();
    if (!entryIds.length) return out;
    this.flushLotRemaining();
    const json = JSON.stringify(entryIds);
    for (const r of this.voidQueries().own.all(json, json) as { entryId: number; lotId: number; expired: number }[]) {
      const e = Number(r.entryId);
      let list = out.get(e);
      if (!list) out.set(e, (list = []));
      list.push({ lotId: Number(r.lotId), expired: Number(r.expired) });
    }
    return out;
  }

  /**
   * The lots of these members, live on `fromDay` or later, of which expiry runs expired points, with how
   * many (less what take-backs reopened of them): what a void or a return can take back from as it would
   * have before the run. A lot whose own accrual was voided is not among them (that void reversed its expiry).
   */
  expiredLots(memberIds: readonly string[], fromDay: string): Map<string, ExpiredLot[]> {
    const out = new Map<string, ExpiredLot[]>();
    if (!memberIds.length) return out;
    this.flushLotRemaining();
    for (const r of this.voidQueries().expired.all(JSON.stringify(memberIds), fromDay) as (ExpiredLot & { memberId: string })[]) {
      let list = out.get(r.memberId);
      if (!list) out.set(r.memberId, (list = []));
      list.push({ id: Number(r.id), earnedAt: r.earnedAt, expiresOn: r.expiresOn, expired: Number(r.expired) });
    }
    return out;
  }

  private expiredSinceStmt?: Database.Statement;
  /**
   * The lots a take-back dated `fromDay` or later may reopen, of these members (expiredLots), read only for
   * the members an expiry run as of a later date expired points of: found first through their expiry
   * postings (postings_member_spent, then the entry by its key), so that a ledger whose runs expired
   * nothing of them, or only lots lapsed before that day, costs one indexed look-up and no scan of the
   * lot moves (PostgreSQL keeps no index on them: migration 12).
   */
  reopenableLots(memberIds: readonly string[], fromDay: string): Map<string, ExpiredLot[]> {
    if (!memberIds.length) return new Map();
    this.flushLotRemaining();
    // (an expiry run as of D expires lots expiring before D: one live on fromDay needs D > fromDay)
    // The account is tested twice on purpose: `IN ('redeemed', 'expired')` repeats the partial index's
    // own WHERE, without which SQLite's planner does not use postings_member_spent (it scans postings).
    this.expiredSinceStmt ??= this.store.db.prepare(
      `SELECT DISTINCT p.member_id FROM postings p JOIN entries e ON e.id = p.entry_id
        WHERE p.member_id IN (SELECT value FROM json_each(?)) AND p.account IN ('redeemed', 'expired') AND p.account = 'expired'
          AND e.kind = 'expiry' AND e.ref > ?`,
    ).pluck();
    const found = this.expiredSinceStmt.all(JSON.stringify(memberIds), expiryRef(fromDay)) as string[];
    return found.length ? this.expiredLots(found, fromDay) : new Map();
  }

  /** Of these lots, those whose own purchase a void took back already (their accrual voided). */
  lotsOfVoidedPurchases(lotIds: readonly number[]): Set<number> {
    if (!lotIds.length) return new Set();
    this.flushLotRemaining();
    return new Set((this.voidQueries().voidedOwn.all(JSON.stringify([...new Set(lotIds)])) as number[]).map(Number));
  }

  private voidedTargetsStmt?: Database.Statement;
  private repaidTargetsStmt?: Database.Statement;
  /**
   * For each of `lotIds` that an imported purchase's accrual created and whose void then took more than
   * the lot had left (its points were spent or held meanwhile), the member's other lots the void took the
   * rest from: each with what the void took from it and its room (points − remaining), in the reverse of
   * the spending order (latest expiresOn first). Only a member with void entries is looked at further.
   */
  voidedLotTargets(memberId: string, lotIds: readonly number[]): Map<number, { lotId: number; took: number; room: number }[]> {
    const out = new Map<number, { lotId: number; took: number; room: number }[]>();
    if (!lotIds.length) return out;
    this.flushLotRemaining();
    this.voidedTargetsStmt ??= this.store.db.prepare(
      // the voided lot is the lot of the accrual the void undid, whether or not the void took anything from
      // it (a checkout may hold all its points: the void then takes from the other lots alone, trial 28)
      `SELECT ol.id AS voided, o.lot_id AS lotId, -o.points AS took, tl.points - tl.remaining AS room
         FROM lots ol
         JOIN entries oe ON oe.id = ol.entry_id AND oe.kind = 'accrual'
         JOIN entries v ON v.member_id = ? AND v.kind = 'void' AND v.ref = oe.ref AND v.id > oe.id
         JOIN lot_moves o ON o.entry_id = v.id AND o.points < 0 AND o.lot_id <> ol.id
         JOIN lots tl ON tl.id = o.lot_id
         JOIN entries te ON te.id = tl.entry_id
        WHERE ol.id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))
          AND (te.kind <> 'accrual' OR coalesce(te.ref, '') <> v.ref)
        ORDER BY ol.id, tl.expires_on IS NULL DESC, tl.expires_on DESC, tl.earned_at DESC, tl.id DESC`,
    );
    // What the void could not take from any lot was debt; the credits after it repaid that debt first, so
    // their lots hold less than they credited. Points given back for the voided lot past what the void took
    // from lots go to those lots, up to what each repaid, in the order they repaid it: as in a ledger that
    // never saw the voided purchase, where the credit would have kept them (trial 41: a corrected re-import
    // repaid the void's debt, then a refund put the spent points back into the voided lot, lapsed).
    this.repaidTargetsStmt ??= this.store.db.prepare(
      `SELECT ol.id AS voided, tl.id AS lotId,
              -(SELECT sum(p.points) FROM postings p WHERE p.entry_id = v.id AND p.account = 'member' AND p.member_id = v.member_id)
                - coalesce((SELECT -sum(m.points) FROM lot_moves m WHERE m.entry_id = v.id AND m.points < 0), 0) AS took,
              (SELECT sum(p.points) FROM postings p WHERE p.entry_id = ce.id AND p.account = 'member' AND p.member_id = ce.member_id) - tl.remaining AS room
         FROM lots ol
         JOIN entries oe ON oe.id = ol.entry_id AND oe.kind = 'accrual'
         JOIN entries v ON v.member_id = ? AND v.kind = 'void' AND v.ref = oe.ref AND v.id > oe.id
         JOIN entries ce ON ce.member_id = v.member_id AND ce.id > v.id
         JOIN lots tl ON tl.entry_id = ce.id
        WHERE ol.id IN (SELECT CAST(value AS INTEGER) FROM json_each(?))
          AND (SELECT sum(p.points) FROM postings p WHERE p.entry_id = ce.id AND p.account = 'member' AND p.member_id = ce.member_id) > tl.points
          -- not a re-import voided in turn (its lot lapses with it, and its own void made the debt anew)
          AND NOT (ce.kind = 'accrual' AND EXISTS (SELECT 1 FROM entries v2 WHERE v2.member_id = ce.member_id AND v2.kind = 'void' AND v2.ref = ce.ref AND v2.id > ce.id))
        ORDER BY ol.id, ce.id, tl.id`,
    );
    for (const stmt of [this.voidedTargetsStmt, this.repaidTargetsStmt]) {
      for (const r of stmt.all(memberId, JSON.stringify(lotIds)) as { voided: number; lotId: number; took: number; room: number }[]) {
        if (Number(r.took) <= 0 || Number(r.room) <= 0) continue;
        const v = Number(r.voided);
        let list = out.get(v);
        if (!list) out.set(v, (list = []));
        list.push({ lotId: Number(r.lotId), took: Number(r.took), room: Number(r.room) });
      }
    }
    return out;
  }

  /** A lot's points left now (`memberId`, its member: answered from memory when followOpenLots follows them). */
  lotRemaining(lotId: number, memberId?: string): number {
    const f = this.followedLots();
    if (f && memberId !== undefined && f.byMember.has(memberId)) return f.byId.get(lotId)?.remaining ?? 0; // (not followed: it was empty)
    this.flushLotRemaining();
    return Number(this.voidQueries().remaining.get(lotId) ?? 0);
  }

  /** What the entries took from lots (their negative lot moves), per entry, in the order they took it. */
  lotsTakenBy(entryIds: readonly number[]): Map<number, { lotId: number; points: number }[]> {
    const out = new Map<number, { lotId: number; points: number }[]>();
    if (!entryIds.length) return out;
    this.flushLotRemaining();
    for (const r of this.voidQueries().taken.all(JSON.stringify(entryIds)) as { entryId: number; lotId: number; points: number }[]) {
      const e = Number(r.entryId);
      let list = out.get(e);
      if (!list) out.set(e, (list = []));
      list.push({ lotId: Number(r.lotId), points: Number(r.points) });
    }
    return out;
  }

  /** Changes to followed lots' remaining not yet queued (moveLot, PostgreSQL): points per lot, in this transaction. */
  private remainingMoves: { tx: number; by: Map<number, number> } | null = null;

  /**
   * Queues the remaining of the followed lots that moveLot moved since the last call, one UPDATE for
   * them all (each lot by the sum of its moves) instead of one per move: an import's returns take from
   * thousands of lots. Called before anything here reads lots again, and by the plan's applier when a
   * plan is written. (SQLite: nothing to do, moveLot wrote them.)
   */
  flushLotRemaining(): void {
    const r = this.remainingMoves;
    this.remainingMoves = null;
    if (!r || r.tx !== this.store.txSerial || r.by.size === 0 || !this.store.pg) return;
    this.store.pg.runQueued('UPDATE lots SET remaining = lots.remaining + v.delta FROM unnest(?::bigint[], ?::bigint[]) AS v(id, delta) WHERE lots.id = v.id', [
      [...r.by.keys()],
      [...r.by.values()],
    ]);
  }

  /** addDebt for many members (an import's batch): on PostgreSQL one statement, queued. */
  addDebts(deltas: Map<string, number>): void {
    if (this.store.pg && deltas.size > 1) {
      const ids: string[] = [];
      const by: number[] = [];
      for (const [id, d] of deltas) {
        if (d === 0) continue;
        ids.push(id);
        by.push(d);
      }
      if (ids.length) this.store.pg.runQueued('UPDATE members SET debt = members.debt + v.delta FROM unnest(?::text[], ?::bigint[]) AS v(id, delta) WHERE members.id = v.id', [ids, by]);
      return;
    }
    for (const [id, d] of deltas) this.addDebt(id, d);
  }

  /** Changes the member's debt cache (points a return took back beyond what the lots held). */
  addDebt(memberId: string, delta: number): void {
    if (delta === 0) return;
    const queue = this.queue();
    if (queue) queue.runQueued(ADD_DEBT, [delta, memberId]);
    else this.s.addDebt.run(delta, memberId);
  }
}

export const journal = (store: Store): Journal => new Journal(store);
