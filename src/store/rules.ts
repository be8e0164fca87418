// Rules versions: each `rules apply` stores a new version with its effective time; none is ever edited.
import type { Store } from './db.js';

export interface RulesVersionRow {
  id: number;
  effective_at: string;
  applied_at: string;
  operator: string;
  source: string | null;
  document: string;
}

export class RulesVersions {
  private readonly s;
  private readonly store: Store;
  constructor(store: Store) {
    this.store = store;
    const db = store.db;
    this.s = {
      insert: db.prepare('INSERT INTO rules_versions (effective_at, applied_at, operator, source, document, entries_before) VALUES (?,?,?,?,?, (SELECT coalesce(max(id), 0) FROM entries))'),
      at: db.prepare('SELECT * FROM rules_versions WHERE effective_at <= ? ORDER BY effective_at DESC, id DESC LIMIT 1'),
      byId: db.prepare('SELECT * FROM rules_versions WHERE id = ?'),
      all: db.prepare('SELECT * FROM rules_versions ORDER BY effective_at, id'),
      history: db.prepare('SELECT * FROM rules_versions ORDER BY id'),
    };
  }
  insert(effectiveAt: string, appliedAt: string, operator: string, source: string | null, document: string): number {
    return Number(this.s.insert.run(effectiveAt, appliedAt, operator, source, document).lastInsertRowid);
  }
  /** The version in force at the instant: the latest effective_at ≤ at; of equal ones, the later applied. */
  inForceAt(atIso: string): RulesVersionRow | undefined {
    return this.s.at.get(atIso) as RulesVersionRow | undefined;
  }
  /** One version by its id (what an order recorded). */
  get(id: number): RulesVersionRow | undefined {
    return this.s.byId.get(id) as RulesVersionRow | undefined;
  }
  /** Every version by effective time, for bulk lookups (imports). */
  all(): RulesVersionRow[] {
    return this.s.all.all() as RulesVersionRow[];
  }
  history(): RulesVersionRow[] {
    return this.s.history.all() as RulesVersionRow[];
  }
  /**
   * What already earned at or after `iso` (a backdated version's effective time): imported purchases that
   * accrued (not voided) and checkouts that were paid. They keep what they earned: the ledger is append-only.
   */
  earnedSince(iso: string): { purchases: number; orders: number } {
    const db = this.store.db;
    const purchases = db.prepare("SELECT count(*) FROM purchases WHERE purchased_at >= ? AND status = 'accrued' AND voided_at IS NULL").pluck().get(iso) as number;
    const orders = db.prepare("SELECT count(*) FROM orders WHERE created_at >= ? AND status IN ('paid', 'partially_refunded', 'refunded')").pluck().get(iso) as number;
    return { purchases, orders };
  }
}

export const rulesVersions = (store: Store): RulesVersions => new RulesVersions(store);
