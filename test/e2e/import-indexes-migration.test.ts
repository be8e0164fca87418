// Migration 13 (the import's indexes): postings_member indexes only redeemed and expired postings, and
// entries_kind_at is gone. A ledger of schema 12 is refused until `db migrate`, which brings it to 13 and
// verifies; the statements that read through the old indexes (a member's opening balance, the members
// report ranked by points redeemed, the activity report) answer exactly what they answered before, and
// what a ledger made at 13 answers.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { latestVersion } from '../../src/store/migrations/index.js';
import { FIXTURES, openLedgerDb, PG, type TmpLedger, tmpLedger } from '../helpers/cli.js';

const T = (d: string) => `${d}T10:00:00+08:00`;
const LATER = { now: T('2028-03-01') };

/** Imported orders (issued and member postings), a credit, a checkout with points (redeemed), an expiry run (expired). */
function story(file = false): TmpLedger {
  const t = tmpLedger({ now: T('2026-10-01'), file });
  t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')]);
  t.ok(['import', 'purchases', join(FIXTURES, 'purchases-orders.csv'), '--create-members'], { now: T('2026-11-10') });
  t.ok(['member', 'adjust', 'M002', '--points', '20000', '--reason', 'welcome', '--yes'], { now: T('2026-11-10') });
  t.ok(['checkout', '--member', 'M002', '--item', 'TEA-001', '--max-points', '--yes'], { now: T('2026-11-12') });
  t.ok(['member', 'adjust', 'M001', '--points', '500', '--reason', 'goodwill', '--yes'], { now: T('2027-06-01') });
  t.ok(['expire', 'run', '--yes'], { now: T('2027-12-01') });
  return t;
}

/** What the migration's statements answer: a member's statement from a date (its opening balance), the ranked reports. */
function answers(t: TmpLedger): unknown[] {
  return [
    t.ok(['member', 'history', 'M001', '--from', '2027-01-01'], LATER),
    t.ok(['member', 'history', 'M002', '--from', '2026-11-11'], LATER),
    t.ok(['report', 'members', '--by', 'redeemed', '--top', '5'], LATER),
    t.ok(['report', 'members', '--by', 'balance', '--top', '5'], LATER),
    t.ok(['report', 'activity', '--from', '2026-11-01', '--to', '2027-12-31', '--by', 'month'], LATER),
    t.ok(['report', 'summary', '--from', '2026-11-01', '--to', '2027-12-31'], LATER),
  ];
}

function indexes(location: string): string[] {
  const db = openLedgerDb(location, { readonly: true });
  try {
    if (PG) {
      return db
        .prepare("SELECT indexname FROM pg_indexes WHERE tablename IN ('entries', 'postings') AND schemaname = current_schema() ORDER BY indexname")
        .pluck()
        .all() as string[];
    }
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name IN ('entries', 'postings') AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
  } finally {
    db.close();
  }
}

/** Puts the ledger back to schema 12 as migration 12 left it: the two indexes back, the partial one gone. */
function backToSchema12(location: string): void {
  const db = openLedgerDb(location);
  try {
    db.exec('DROP INDEX postings_member_spent');
    db.exec('CREATE INDEX postings_member ON postings(member_id, account)');
    db.exec('CREATE INDEX entries_kind_at ON entries(kind, at)');
    db.exec('ALTER TABLE order_lines DROP COLUMN points_spread; ALTER TABLE order_lines DROP COLUMN points_ratio'); // (migrations 16's and 15's)
    db.pragma('user_version = 12');
  } finally {
    db.close();
  }
}

describe('migration 13: the indexes an import writes', () => {
  it('a schema-12 ledger is refused, migrates to 13, verifies, and its statements and reports answer as before and as a ledger made at 13', () => {
    const t = story();
    const before = answers(t);
    // the story reaches every account the statements read: spent points both redeemed and expired
    const ranked = before[2] as { members: { id: string; redeemed: number; expired: number }[] };
    expect(ranked.members[0]).toMatchObject({ id: 'M002', redeemed: expect.any(Number) });
    expect(ranked.members[0].redeemed).toBeGreaterThan(0);
    expect(ranked.members.some((m) => m.expired > 0)).toBe(true);
    // the opening balance from a date is the closing balance of the statement up to the day before it
    const opening = (before[0] as { openingBalance: number }).openingBalance;
    expect(opening).toBeGreaterThan(0);
    expect(t.ok(['member', 'history', 'M001', '--to', '2026-12-31'], LATER)).toMatchObject({ openingBalance: 0, closingBalance: opening });
    expect(t.ok(['member', 'history', 'M002', '--to', '2026-11-10'], LATER).closingBalance).toBe((before[1] as { openingBalance: number }).openingBalance);

    const made13 = PG ? ['entries_at', 'entries_member', 'entries_pkey', 'postings_entry', 'postings_member_spent'] : ['entries_at', 'entries_member', 'postings_entry', 'postings_member_spent'];
    expect(indexes(t.db)).toEqual(made13);
    backToSchema12(t.db);
    expect(indexes(t.db)).toContain('postings_member');
    const refused = t.run(['member', 'list', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr.trim()).error.code).toBe('LEDGER_TOO_OLD');

    const m = t.ok(['db', 'migrate']);
    expect(m).toMatchObject({ from: 12, to: latestVersion() });
    expect(m.applied).toContain('013_import-indexes');
    expect(indexes(t.db)).toEqual(made13);
    const v = t.verify();
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    expect(answers(t)).toEqual(before);

    // the same story on a SQLite file made at 13: the same answers and the same chain head
    const f = story(true);
    expect(answers(f)).toEqual(before);
    expect((f.verify() as unknown as { head: unknown }).head).toEqual((v as unknown as { head: unknown }).head);
  });
});
