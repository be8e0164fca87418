// The journal: hash-chained entries whose postings sum to zero, lots and lot moves, and the
// member balance caches they keep. Every write of points goes through here.
import { createHash } from 'node:crypto';
import type { OpenLot } from '../domain/lots.js';
import type { Store } from './db.js';

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

export function chainHash(prevHash: string, content: string): string {
  return createHash('sha256').update(prevHash).update('\n').update(content).digest('hex');
}

export class Journal {
  private readonly store: Store;
  private txSerial = -1;
  private lastId = 0;
  private lastHash = GENESIS_HASH;
  private readonly s;

  constructor(store: Store) {
    this.store = store;
    const db = store.db;
    this.s = {
      last: db.prepare('SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1'),
      insertEntry: db.prepare(
        'INSERT INTO entries (id, at, recorded_at, kind, member_id, ref, memo, operator, prev_hash, hash) VALUES (?,?,?,?,?,?,?,?,?,?)',
      ),
      insertPosting: db.prepare('INSERT INTO postings (entry_id, account, member_id, points) VALUES (?,?,?,?)'),
      memberCache: db.prepare(
        // An expiry is not the member's activity: it leaves last_activity_at alone (NULL keeps the old value).
        `UPDATE members SET balance = balance + ?, held = held + ?, lifetime_earned = lifetime_earned + ?,
                last_activity_at = coalesce(max(coalesce(last_activity_at, ''), ?), last_activity_at) WHERE id = ?`,
      ),
      insertLot: db.prepare('INSERT INTO lots (member_id, entry_id, points, remaining, earned_at, expires_on) VALUES (?,?,?,?,?,?)'),
      insertMove: db.prepare('INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (?,?,?)'),
      moveRemaining: db.prepare('UPDATE lots SET remaining = remaining + ? WHERE id = ?'),
      openLots: db.prepare(
        `SELECT id, remaining, earned_at AS earnedAt, expires_on AS expiresOn FROM lots
          WHERE member_id = ? AND remaining > 0
          ORDER BY expires_on IS NULL, expires_on, earned_at, id`,
      ),
      addDebt: db.prepare('UPDATE members SET debt = debt + ? WHERE id = ?'),
    };
  }

  private syncChain(): void {
    if (this.txSerial === this.store.txSerial) return;
    const row = this.s.last.get() as { id: number; hash: string } | undefined;
    this.lastId = row?.id ?? 0;
    this.lastHash = row?.hash ?? GENESIS_HASH;
    this.txSerial = this.store.txSerial;
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
    const hash = chainHash(this.lastHash, entryContent(row, e.postings));
    this.s.insertEntry.run(row.id, row.at, row.recorded_at, row.kind, row.member_id, row.ref, row.memo, row.operator, this.lastHash, hash);
    this.lastId = row.id;
    this.lastHash = hash;
    // One cache update per member touched, not per posting.
    const perMember = new Map<string, { balance: number; held: number; earned: number }>();
    for (const p of e.postings) {
      this.s.insertPosting.run(row.id, p.account, p.memberId, p.points);
      if (p.memberId === null || p.points === 0) continue;
      let m = perMember.get(p.memberId);
      if (!m) perMember.set(p.memberId, (m = { balance: 0, held: 0, earned: 0 }));
      if (p.account === 'member') m.balance += p.points;
      else if (p.account === 'held') {
        m.balance += p.points;
        m.held += p.points;
      } else if (p.account === 'issued') m.earned -= p.points;
    }
    const activityAt = e.kind === 'expiry' ? null : e.at;
    for (const [id, m] of perMember) this.s.memberCache.run(m.balance, m.held, m.earned, activityAt, id);
    return row.id;
  }

  /** Creates a lot (a credit with its own expiresOn). */
  createLot(entryId: number, memberId: string, points: number, earnedAt: string, expiresOn: string | null): number {
    return Number(this.s.insertLot.run(memberId, entryId, points, points, earnedAt, expiresOn).lastInsertRowid);
  }

  /** Records a movement on a lot (negative takes, positive gives back) and updates its remaining cache. */
  moveLot(entryId: number, lotId: number, points: number): void {
    if (points === 0) return;
    this.s.insertMove.run(entryId, lotId, points);
    this.s.moveRemaining.run(points, lotId);
  }

  /** The member's lots with points left, in spending order (§4.4). */
  openLots(memberId: string): OpenLot[] {
    return this.s.openLots.all(memberId) as OpenLot[];
  }

  /** Changes the member's debt cache (points a return took back beyond what the lots held). */
  addDebt(memberId: string, delta: number): void {
    if (delta !== 0) this.s.addDebt.run(delta, memberId);
  }
}

export const journal = (store: Store): Journal => new Journal(store);
