// Members: master data (name, contact, pinned tier, status) and the balance caches the journal keeps.
import type { Store } from './db.js';

export interface MemberRow {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  tier: string | null;
  status: 'active' | 'frozen';
  frozen_reason: string | null;
  created_at: string;
  updated_at: string;
  balance: number;
  held: number;
  debt: number;
  lifetime_earned: number;
  last_activity_at: string | null;
}

export interface NewMember {
  id: string;
  name: string;
  phone: string | null;
  email: string | null;
  tier: string | null;
}

export interface MemberFilter {
  tier?: string;
  status?: 'active' | 'frozen';
  minBalance?: number;
  /** Case-insensitive substring of the id, name, phone or email (`%` and `_` match themselves). */
  search?: string;
  limit?: number;
  offset?: number;
}

/** LIMIT for "no limit" that SQLite and PostgreSQL both take (a negative LIMIT is SQLite's own). */
export const NO_LIMIT = Number.MAX_SAFE_INTEGER;

/** A LIKE pattern matching `text` anywhere, with `\`, `%` and `_` escaped (used with ESCAPE '\'). */
export const containsPattern = (text: string): string => `%${text.replace(/[\\%_]/g, (ch) => '\\' + ch)}%`;

export interface LotRow {
  id: number;
  points: number;
  remaining: number;
  earned_at: string;
  expires_on: string | null;
}

export class Members {
  private readonly db;
  private readonly s;
  constructor(store: Store) {
    this.db = store.db;
    this.s = {
      get: this.db.prepare('SELECT * FROM members WHERE id = ?'),
      debts: this.db.prepare('SELECT id, debt FROM members WHERE id IN (SELECT value FROM json_each(?))').raw(),
      balances: this.db.prepare('SELECT id, balance FROM members WHERE id IN (SELECT value FROM json_each(?))').raw(),
      exists: this.db.prepare('SELECT 1 FROM members WHERE id = ?').pluck(),
      sameButCase: this.db.prepare('SELECT id FROM members WHERE lower(id) = lower(?) ORDER BY id LIMIT 1').pluck(),
      insert: this.db.prepare(
        'INSERT INTO members (id, name, phone, email, tier, created_at, updated_at) VALUES (@id, @name, @phone, @email, @tier, @at, @at)',
      ),
      lots: this.db.prepare(
        `SELECT id, points, remaining, earned_at, expires_on FROM lots WHERE member_id = ? AND remaining > 0
          ORDER BY expires_on IS NULL, expires_on, earned_at, id`,
      ),
      status: this.db.prepare('UPDATE members SET status = ?, frozen_reason = ?, updated_at = ? WHERE id = ?'),
    };
  }
  get(id: string): MemberRow | undefined {
    return this.s.get.get(id) as MemberRow | undefined;
  }
  /** Every member's id (an import that creates members checks new ids against them). */
  ids(): string[] {
    return this.db.prepare('SELECT id FROM members').pluck().all() as string[];
  }
  /** A member whose id is `id` but for the case of its letters, if any (for the hint of a look-up that missed). */
  sameButCase(id: string): string | undefined {
    return this.s.sameButCase.get(id) as string | undefined;
  }
  /** The debts of these members, in one statement (an unknown id is absent). */
  debts(ids: readonly string[]): Map<string, number> {
    return new Map((this.s.debts.all(JSON.stringify(ids)) as [string, number][]).map(([id, d]) => [id, Number(d)]));
  }
  /** The balance cache of each of these members. */
  balances(ids: readonly string[]): Map<string, number> {
    return new Map((this.s.balances.all(JSON.stringify(ids)) as [string, number][]).map(([id, b]) => [id, Number(b)]));
  }
  exists(id: string): boolean {
    return this.s.exists.get(id) !== undefined;
  }
  insert(m: NewMember, at: string): void {
    this.s.insert.run({ ...m, at });
  }
  /** Changes the named master-data fields (never the caches). */
  update(id: string, fields: Partial<Pick<MemberRow, 'name' | 'phone' | 'email' | 'tier'>>, at: string): void {
    const keys = Object.keys(fields).filter((k) => ['name', 'phone', 'email', 'tier'].includes(k));
    if (!keys.length) return;
    const sql = `UPDATE members SET ${keys.map((k) => `${k} = @${k}`).join(', ')}, updated_at = @at WHERE id = @id`;
    this.db.prepare(sql).run({ ...fields, at, id });
  }
  setStatus(id: string, status: 'active' | 'frozen', reason: string | null, at: string): void {
    this.s.status.run(status, reason, at, id);
  }
  openLots(id: string): LotRow[] {
    return this.s.lots.all(id) as LotRow[];
  }
  list(f: MemberFilter): MemberRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.tier) (where.push('tier = ?'), args.push(f.tier));
    if (f.status) (where.push('status = ?'), args.push(f.status));
    if (f.minBalance !== undefined) (where.push('balance >= ?'), args.push(f.minBalance));
    if (f.search) {
      // LOWER() folds ASCII letters only (SQLite's, and PostgreSQL's on the columns' COLLATE "C"): the
      // pattern is folded the same way here, not by the server, whose collation may fold more (ICU: É → é)
      const like = (col: string) => `LOWER(${col}) LIKE ? ESCAPE '\\'`;
      where.push(`(${['id', 'name', 'phone', 'email'].map(like).join(' OR ')})`);
      const pattern = containsPattern(f.search).replace(/[A-Z]+/g, (x) => x.toLowerCase());
      args.push(pattern, pattern, pattern, pattern);
    }
    // ids are unique, so pages in id order never overlap or skip
    const sql = `SELECT * FROM members ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id LIMIT ? OFFSET ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? NO_LIMIT, f.offset ?? 0) as MemberRow[];
  }
  count(): number {
    return this.db.prepare('SELECT count(*) FROM members').pluck().get() as number;
  }
}

export const members = (store: Store): Members => new Members(store);
