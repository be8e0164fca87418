// Migration 11 (lots' expiry index and page room on PostgreSQL): a ledger of schema 10 with lots in it is
// refused until `db migrate`, which brings it to 11 and verifies; its expiry run then writes what a ledger
// that never left schema 11 writes, to the last chain hash. On PostgreSQL the partial index naming
// `remaining` is gone (so emptying a lot is a HOT update) and the lots keep half of each page free; on
// SQLite the schema is what it was.
import { describe, expect, it } from 'vitest';
import { latestVersion } from '../../src/store/migrations/index.js';
import { openLedgerDb, PG, type TmpLedger, tmpLedger } from '../helpers/cli.js';

const T = (d: string) => `${d}T10:00:00+08:00`;

/** A ledger with three lots, two of which a run as of 2026-01-20 expires. */
function story(file = false): TmpLedger {
  const t = tmpLedger({ now: T('2025-01-01'), file });
  t.ok(['member', 'add', '--id', 'm1', '--name', 'Ann', '--phone', '+8613800000001'], { now: T('2025-01-01') });
  t.ok(['member', 'add', '--id', 'm2', '--name', 'Bo', '--email', 'bo@example.com'], { now: T('2025-01-01') });
  const earn = (m: string, points: number, day: string) => t.ok(['member', 'adjust', m, '--points', String(points), '--reason', 'earn', '--yes'], { now: T(day) });
  earn('m1', 100, '2025-01-10');
  earn('m2', 50, '2025-01-11');
  earn('m1', 30, '2025-06-01');
  return t;
}

/** Puts the ledger back to schema 10 as migration 10 left it (on SQLite, the version alone differs). */
function backToSchema10(location: string): void {
  const db = openLedgerDb(location);
  try {
    if (PG) {
      db.exec('DROP INDEX lots_expiry');
      db.exec('CREATE INDEX lots_expiry_open ON lots(expires_on) WHERE remaining > 0');
      db.exec('ALTER TABLE lots RESET (fillfactor)');
      db.exec('ALTER TABLE members RESET (fillfactor)');
      db.exec('CREATE INDEX lot_moves_lot ON lot_moves(lot_id)'); // (migration 12's)
    }
    db.exec('ALTER TABLE order_lines DROP COLUMN points_spread; ALTER TABLE order_lines DROP COLUMN points_ratio'); // (migrations 16's and 15's)
    db.pragma('user_version = 10');
  } finally {
    db.close();
  }
}

function lotsSchema(location: string): { indexes: string[]; options: string | null; memberOptions?: string | null } {
  const db = openLedgerDb(location, { readonly: true });
  try {
    if (PG) {
      const indexes = db.prepare("SELECT indexname FROM pg_indexes WHERE tablename = 'lots' AND schemaname = current_schema() ORDER BY indexname").pluck().all() as string[];
      const options = db.prepare("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'lots'::regclass").pluck().get() as string | null;
      const memberOptions = db.prepare("SELECT array_to_string(reloptions, ',') FROM pg_class WHERE oid = 'members'::regclass").pluck().get() as string | null;
      return { indexes, options, memberOptions };
    }
    const indexes = db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lots' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
    return { indexes, options: null };
  } finally {
    db.close();
  }
}

describe('migration 11: the lots expiry index', () => {
  it('a schema-10 ledger with lots is refused, migrates to 11, verifies, and expires exactly as a ledger made at 11', () => {
    const t = story();
    backToSchema10(t.db);
    expect(lotsSchema(t.db).indexes).toContain('lots_expiry_open');
    const refused = t.run(['member', 'list', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr.trim()).error.code).toBe('LEDGER_TOO_OLD');

    const m = t.ok(['db', 'migrate']);
    expect(m).toMatchObject({ from: 10, to: latestVersion() });
    expect(m.applied).toContain('011_lots-expiry-hot');
    expect(t.verify().ok).toBe(true);
    expect(lotsSchema(t.db)).toEqual(
      PG ? { indexes: ['lots_expiry', 'lots_member', 'lots_pkey'], options: 'fillfactor=50', memberOptions: 'fillfactor=50' } : { indexes: ['lots_expiry_open', 'lots_member'], options: null },
    );

    const now = { now: T('2026-01-20') };
    expect(t.ok(['expire', 'run', '--dry-run'], now)).toMatchObject({ lotsExpired: 2, pointsExpired: 150, members: 2 });
    expect(t.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 2, pointsExpired: 150, members: 2, entries: 2 });
    expect(t.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 0, pointsExpired: 0, members: 0 }); // idempotent
    expect(t.ok(['member', 'show', 'm1'], now)).toMatchObject({ balance: 30, lots: [expect.objectContaining({ points: 30, remaining: 30 })] });
    expect(t.ok(['expire', 'preview', '--within', '365d'], now)).toMatchObject({ lots: 1, points: 30, overduePoints: 0 });
    const v = t.verify();
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);

    // the same story on a SQLite file that was made at schema 11 and never migrated: the same books
    const f = story(true);
    expect(f.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 2, pointsExpired: 150 });
    const fv = f.verify() as unknown as { ok: boolean; head: unknown };
    expect(fv.ok).toBe(true);
    expect((v as unknown as { head: unknown }).head).toEqual(fv.head);
    for (const args of [['report', 'summary'], ['report', 'liability'], ['member', 'list']]) expect(t.ok(args, now)).toEqual(f.ok(args, now));
  });
});

/** Puts the ledger back to schema 11 (on PostgreSQL, the lot moves' index migration 12 drops). */
function backToSchema11(location: string): void {
  const db = openLedgerDb(location);
  try {
    if (PG) db.exec('CREATE INDEX lot_moves_lot ON lot_moves(lot_id)');
    db.exec('ALTER TABLE order_lines DROP COLUMN points_spread; ALTER TABLE order_lines DROP COLUMN points_ratio'); // (migrations 16's and 15's)
    db.pragma('user_version = 11');
  } finally {
    db.close();
  }
}

function lotMovesIndexes(location: string): string[] {
  const db = openLedgerDb(location, { readonly: true });
  try {
    if (PG) return db.prepare("SELECT indexname FROM pg_indexes WHERE tablename = 'lot_moves' AND schemaname = current_schema() ORDER BY indexname").pluck().all() as string[];
    return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'lot_moves' AND sql IS NOT NULL ORDER BY name").pluck().all() as string[];
  } finally {
    db.close();
  }
}

describe('migration 12: lot moves without an index on PostgreSQL', () => {
  it('a schema-11 ledger migrates to 12 (PostgreSQL drops lot_moves_lot, SQLite keeps it), verifies, and expires as before, its reports the same as on SQLite', () => {
    const t = story();
    const now = { now: T('2026-01-20') };
    expect(t.ok(['expire', 'run'], { now: T('2025-12-01') })).toMatchObject({ lotsExpired: 0 });
    backToSchema11(t.db);
    expect(lotMovesIndexes(t.db)).toEqual(['lot_moves_lot']);
    const m = t.ok(['db', 'migrate']);
    expect(m).toMatchObject({ from: 11, to: latestVersion() });
    expect(m.applied).toContain('012_lot-moves-unindexed');
    expect(lotMovesIndexes(t.db)).toEqual(PG ? [] : ['lot_moves_lot']);
    expect(t.verify().ok).toBe(true);

    expect(t.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 2, pointsExpired: 150, members: 2, entries: 2 });
    expect(t.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 0 });
    // the checks and reports that sum the moves per lot read them without the index
    const v = t.verify();
    expect(v.checks.filter((c) => !c.ok)).toEqual([]);
    const f = story(true);
    expect(f.ok(['expire', 'run'], now)).toMatchObject({ lotsExpired: 2 });
    expect((v as unknown as { head: unknown }).head).toEqual((f.verify() as unknown as { head: unknown }).head);
    for (const args of [['report', 'liability'], ['report', 'liability', '--as-of', '2026-01-19'], ['member', 'show', 'm1']]) expect(t.ok(args, now)).toEqual(f.ok(args, now));
  });
});
