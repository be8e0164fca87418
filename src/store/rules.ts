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
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      insert: db.prepare('INSERT INTO rules_versions (effective_at, applied_at, operator, source, document, entries_before) VALUES (?,?,?,?,?, (SELECT coalesce(max(id), 0) FROM entries))'),
      at: db.prepare('SELECT * FROM rules_versions WHERE effective_at <= ? ORDER BY effective_at DESC, id DESC LIMIT 1'),
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
  /** Every version by effective time, for bulk lookups (imports). */
  all(): RulesVersionRow[] {
    return this.s.all.all() as RulesVersionRow[];
  }
  history(): RulesVersionRow[] {
    return this.s.history.all() as RulesVersionRow[];
  }
}

export const rulesVersions = (store: Store): RulesVersions => new RulesVersions(store);
