// The audit log: who changed what, when; append-only.
import type { Store } from './db.js';

export interface AuditRow {
  id: number;
  at: string;
  operator: string;
  action: string;
  subject: string | null;
  detail: string | null;
}

export class Audit {
  private readonly ins;
  private readonly db;
  constructor(store: Store) {
    this.db = store.db;
    this.ins = store.db.prepare('INSERT INTO audit (at, operator, action, subject, detail) VALUES (?,?,?,?,?)');
  }
  record(at: string, operator: string, action: string, subject: string | null, detail?: unknown): void {
    this.ins.run(at, operator, action, subject, detail === undefined ? null : JSON.stringify(detail));
  }
  list(f: { sinceIso?: string; operator?: string; limit?: number; offset?: number }): AuditRow[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.sinceIso) (where.push('at >= ?'), args.push(f.sinceIso));
    if (f.operator) (where.push('operator = ?'), args.push(f.operator));
    const sql = `SELECT * FROM audit ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY id DESC LIMIT ? OFFSET ?`;
    return this.db.prepare(sql).all(...args, f.limit ?? 1000, f.offset ?? 0) as AuditRow[];
  }
}

export const audit = (store: Store): Audit => new Audit(store);
