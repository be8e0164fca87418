// ledger verify proves every table that decides money against the journal (issue 14 item 8): lots and
// their expiry, purchases and their keys, orders and refunds, holds, the outbox's sent marks. Each test
// edits one table with plain SQL, as an operator with sqlite3 could, and expects exit 6 naming the check.
import { existsSync, readFileSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger, tmpLedger } from '../helpers/cli.js';

type Check = { name: string; ok: boolean; detail: string };

let seededOrder = '';
/**
 * Imports for a and b, a checkout of a with points, a partial refund, and an outbox export that marked sent:
 * built once per file (sceneLedger), each test tampering with a copy of its own.
 */
function seeded(): { t: TmpLedger; orderId: string } {
  const t = sceneLedger('verify-books seeded', build);
  return { t, orderId: seededOrder };
}

function build(t: TmpLedger): void {
  t.ok(['member', 'add', '--id', 'a', '--name', 'A', '--phone', '+8613800000001']);
  t.ok(['member', 'add', '--id', 'b', '--name', 'B', '--email', 'b@example.com']);
  const csv = join(t.dir, 'p.csv');
  writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-11-01 10:00,100.00\nO2,a,2026-11-10 10:00,200.00\nO3,b,2026-11-05 10:00,50.00\n');
  expect(t.ok(['import', 'purchases', csv])).toMatchObject({ accepted: 3, pointsAccrued: 350 });
  t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00', '--stock', '10']);
  const o = t.ok(['checkout', '--member', 'a', '--item', 'TEA:2', '--points', '200', '--tender', 'cash', '--yes']);
  expect(o).toMatchObject({ status: 'paid', pointsUsed: 200 });
  t.ok(['order', 'refund', o.orderId, '--line', 'TEA:1', '--reason', 'broken', '--yes']);
  t.ok(['outbox', 'export', '--out', join(t.dir, 'out.jsonl'), '--mark-sent']);
  t.ok(['checkout', '--member', 'b', '--item', 'TEA', '--no-points', '--tender', 'card', '--yes']); // a pending notification
  seededOrder = o.orderId;
}

function tamper(path: string, sql: string[]): void {
  const db = new Database(path);
  for (const s of sql) db.exec(s);
  db.close();
}

function failedChecks(t: TmpLedger): Check[] {
  const r = t.run(['ledger', 'verify', '--json']);
  expect(r.code, r.stderr).toBe(6);
  const v = r.json();
  expect(v.ok).toBe(false);
  return v.checks.filter((c: Check) => !c.ok);
}

/** M1, and rules from 2025 expiring points 10 days on (rolling): the scene of the reopen tests. */
function rollingTenDays(): TmpLedger {
  const t = tmpLedger({ timezone: 'Asia/Shanghai' });
  t.ok(['member', 'add', '--id', 'M1', '--name', 'One']);
  writeFileSync(join(t.dir, 'r.json'), '{"expiry":{"policy":"rolling-days","days":10}}');
  t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2025-01-01', '--yes'], { now: '2025-11-01T10:00:00+08:00' });
  return t;
}

/** An import of `rows` (order_id,member_id,purchased_at,amount) under source shop at the clock `now`. */
function importAt(t: TmpLedger, name: string, rows: string, now: string): void {
  writeFileSync(join(t.dir, name), 'order_id,member_id,purchased_at,amount\n' + rows);
  t.ok(['import', 'purchases', join(t.dir, name), '--source', 'shop'], { now });
}

/**
 * A take-back entry of `kind` (the ledger's last) that reopened `reopened` points of a lot, tampered with
 * two ways, each caught: `more` points reopened and taken again (the lot's points add up, but more came back
 * than the `expired` an expiry run expired of it), and, in a copy, 50 given back and not taken (the lot's
 * remaining kept in step).
 */
function tamperReopened(t: TmpLedger, kind: 'void' | 'return', reopened: number, more: number, expired: number): void {
  const db = new Database(t.db, { readonly: true });
  const [entry, lot] = db.prepare('SELECT entry_id, lot_id FROM lot_moves WHERE points = ? AND entry_id = (SELECT max(id) FROM entries WHERE kind = ?)').raw().get(reopened, kind) as [number, number];
  db.close();
  const copy = join(t.dir, 'copy.db');
  const other = { ...t, db: copy, run: (args: string[], o = {}) => t.run([...args, '--db', copy], o) } as TmpLedger;
  writeFileSync(copy, readFileSync(t.db));
  tamper(t.db, [`INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (${entry}, ${lot}, ${more}), (${entry}, ${lot}, -${more})`]);
  const failed = failedChecks(t);
  expect(failed.map((c) => c.name)).toEqual(['expiry-takes-lapsed-lots']);
  expect(failed[0].detail).toContain(`entry ${entry} (${kind}): take-backs reopened ${reopened + more} expired points of lot ${lot}, but expiry runs expired ${expired} of it`);
  tamper(copy, [`INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (${entry}, ${lot}, 50)`, `UPDATE lots SET remaining = remaining + 50 WHERE id = ${lot}`]);
  expect(failedChecks(other).find((c) => c.name === 'lots-match-entries')?.detail).toContain(`entry ${entry} (${kind}): reopens ${reopened + 50} expired points of lot ${lot} but takes only ${reopened} of them`);
}

describe('ledger verify sees every table that decides money', () => {
  it('rules versions are those their audit records stored: a version written into the table, or a document edited (with the lots it dates), is exit 6 naming it (trial 37)', () => {
    const t = tmpLedger({ timezone: 'Asia/Shanghai' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'One']);
    t.ok(['member', 'adjust', 'M1', '--points', '1000', '--reason', 'seed']);
    writeFileSync(join(t.dir, 'r.json'), '{"redeem":{"pointsPerUnit":"100"}}');
    t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2025-01-01', '--yes']);
    // init --force erases the ledger and its audit records: the versions of the new one are judged alone
    t.ok(['init', '--force', '--yes', '--timezone', 'Asia/Shanghai']);
    t.ok(['member', 'add', '--id', 'M1', '--name', 'One']);
    t.ok(['member', 'adjust', 'M1', '--points', '1000', '--reason', 'seed']);
    t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2025-01-01', '--yes']);
    t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2027-01-01', '--yes']);
    const ok = t.verify().checks.find((c) => c.name === 'rules-match-audit');
    expect(ok).toMatchObject({ ok: true });
    expect(ok!.detail).toMatch(/^3 rules version\(s\), each the one its audit record stored .*, the same document$/);
    const copy = (name: string) => {
      const db = join(t.dir, name);
      writeFileSync(db, readFileSync(t.db));
      return { ...t, db, run: (args: string[], o = {}) => t.run([...args, '--db', db], o) } as TmpLedger;
    };
    // a version no rules apply stored: one point worth 1.00 instead of 0.01
    const forged = copy('forged.db');
    tamper(forged.db, [
      "INSERT INTO rules_versions (effective_at, applied_at, operator, source, document) SELECT '2026-11-23T01:00:00.000Z', '2026-11-23T01:00:00.000Z', 'root', NULL, replace(document, '\"pointsPerUnit\":\"100\"', '\"pointsPerUnit\":\"1\"') FROM rules_versions WHERE id = 2",
    ]);
    expect(failedChecks(forged)).toEqual([{ name: 'rules-match-audit', ok: false, detail: 'rules version 4: was stored by no rules apply (no rules.apply audit record names it): the rules table was written to directly' }]);
    // the first version's expiry edited, and the lots' dates with it: points that never lapse
    const never = copy('never.db');
    tamper(never.db, ["UPDATE rules_versions SET document = replace(document, '\"days\":365', '\"days\":36500') WHERE id = 1", "UPDATE lots SET expires_on = date(expires_on, '+36135 days')"]);
    expect(failedChecks(never)).toEqual([{ name: 'rules-match-audit', ok: false, detail: 'rules version 1: is not the document init (audit 1, ledger.init) stored: edited since' }]);
    // a version moved in time, another's document edited, a third deleted
    const moved = copy('moved.db');
    tamper(moved.db, [
      "UPDATE rules_versions SET effective_at = '2024-01-01T00:00:00.000Z' WHERE id = 2",
      "UPDATE rules_versions SET document = replace(document, '\"pointsPerUnit\":\"100\"', '\"pointsPerUnit\":\"10\"') WHERE id = 3",
    ]);
    const detail = failedChecks(moved).find((c) => c.name === 'rules-match-audit')!.detail;
    expect(detail).toMatch(/^rules version 2: is in force from 2024-01-01T00:00:00\.000Z, but rules apply stored it in force from 2024-12-31T16:00:00\.000Z \(audit \d+\); rules version 3: is not the document rules apply \(audit \d+\) stored: edited since$/);
    // init's defaults moved later (they would undo version 2 from then), an operator or file renamed (check finding 3)
    const later = copy('later.db');
    tamper(later.db, ["UPDATE rules_versions SET effective_at = '2026-11-30T16:00:00.000Z' WHERE id = 1", "UPDATE rules_versions SET operator = 'boss' WHERE id = 2", "UPDATE rules_versions SET source = 'other.json' WHERE id = 3"]);
    const laterDetail = failedChecks(later).find((c) => c.name === 'rules-match-audit')!.detail;
    expect(laterDetail).toContain('rules version 1: is in force from 2026-11-30T16:00:00.000Z, but init stored it in force from the beginning (0001-01-01T00:00:00.000Z, audit 1)');
    expect(laterDetail).toMatch(/rules version 2: names operator boss, but tester applied it \(audit \d+\)/);
    expect(laterDetail).toMatch(/rules version 3: names the file other\.json, but rules apply stored it from \S*r\.json \(audit \d+\)/);
    const gone = copy('gone.db');
    tamper(gone.db, ['DELETE FROM rules_versions WHERE id = 3']);
    expect(failedChecks(gone).find((c) => c.name === 'rules-match-audit')!.detail).toMatch(/^audit \d+: records rules apply storing rules version 3, which is gone$/);
  });

  it('catalog items and members are as their audit records left them: a price set to 0 or a frozen member set active with sqlite3 is exit 6 naming them (trial 41)', () => {
    const t = tmpLedger({ timezone: 'Asia/Shanghai' });
    writeFileSync(join(t.dir, 'tiers.json'), JSON.stringify({ tiers: [{ name: 'gold', minLifetimePoints: 1000, multiplier: '1.5' }] }));
    t.ok(['rules', 'apply', join(t.dir, 'tiers.json'), '--effective', '2025-01-01', '--yes']);
    t.ok(['member', 'add', '--id', 'M1', '--name', 'One', '--tier', 'gold']);
    t.ok(['member', 'add', '--id', 'M2', '--name', 'Two']);
    t.ok(['member', 'freeze', 'M2', '--reason', 'fraud', '--yes']);
    t.ok(['catalog', 'add', '--sku', 'PTS', '--name', 'Points item', '--price', '50.00', '--pay', 'points', '--points-price', '5000']);
    writeFileSync(join(t.dir, 'cat.csv'), 'sku,name,price\nTEA,Tea,12.00\n');
    t.ok(['catalog', 'import', join(t.dir, 'cat.csv')]);
    t.ok(['catalog', 'update', 'TEA', '--price', '13.00']);
    t.ok(['catalog', 'deactivate', 'TEA']);
    const v = t.verify();
    expect(v.ok).toBe(true);
    expect(v.checks.find((c) => c.name === 'catalog-match-audit')).toMatchObject({ ok: true, detail: '2 catalog item(s), each priced as its last audit record says' });
    expect(v.checks.find((c) => c.name === 'members-match-audit')).toMatchObject({ ok: true });
    const copy = (name: string) => {
      const db = join(t.dir, name);
      writeFileSync(db, readFileSync(t.db));
      return { ...t, db, run: (args: string[], o = {}) => t.run([...args, '--db', db], o) } as TmpLedger;
    };
    const cheap = copy('cheap.db');
    tamper(cheap.db, ["UPDATE catalog_items SET points_price = 1, price = 0 WHERE sku = 'PTS'", "UPDATE catalog_items SET active = 1 WHERE sku = 'TEA'"]);
    expect(failedChecks(cheap)).toEqual([
      { name: 'catalog-match-audit', ok: false, detail: 'item PTS: price "0.00", pointsPrice 1, but its last audit record says "50.00", 5000: edited since; item TEA: active true, but its last audit record says false: edited since' },
    ]);
    const thawed = copy('thawed.db');
    tamper(thawed.db, ["UPDATE members SET status = 'active', frozen_reason = NULL WHERE id = 'M2'", "UPDATE members SET tier = 'platinum' WHERE id = 'M1'"]);
    expect(failedChecks(thawed)).toEqual([
      { name: 'members-match-audit', ok: false, detail: 'member M1: is pinned to tier platinum, but their last record that set it says gold: edited since; member M2: is active, but their last freeze record says frozen: edited since' },
    ]);
    // a member import of an older release re-pinned tiers with no record per member: such tiers are not judged
    const older = copy('older.db');
    tamper(older.db, [
      "UPDATE members SET tier = 'silver' WHERE id = 'M1'",
      "INSERT INTO audit (at, operator, action, subject, detail) VALUES ('2026-11-23T02:00:00.000Z', 'tester', 'member.import', 'old.csv', '{\"rows\":1,\"created\":0,\"updated\":1,\"unchanged\":0,\"rejected\":0}')",
    ]);
    expect(older.run(['ledger', 'verify', '--json']).json()).toMatchObject({ ok: true });
    // this release's member import records each change: a tier it set is judged
    writeFileSync(join(t.dir, 'm.csv'), 'id,name,tier\nM1,One,\n');
    t.ok(['member', 'import', join(t.dir, 'm.csv')]);
    const repinned = copy('repinned.db');
    tamper(repinned.db, ["UPDATE members SET tier = 'gold' WHERE id = 'M1'"]);
    expect(failedChecks(repinned).map((c) => c.detail)).toEqual(['member M1: is pinned to tier gold, but their last record that set it says (none): edited since']);
    const forged = copy('forged.db');
    tamper(forged.db, ["INSERT INTO catalog_items (sku, name, price, pay, points_price, created_at, updated_at) VALUES ('FREE', 'Free', 0, 'points', 1, 'x', 'x')"]);
    expect(failedChecks(forged)).toEqual([{ name: 'catalog-match-audit', ok: false, detail: 'item FREE: was written by no catalog add, update or import (no audit record names it): the catalog table was written to directly' }]);
  });

  it('passes on a ledger with imports, a checkout, a refund and an export, naming the new checks', () => {
    const { t } = seeded();
    const v = t.verify();
    expect(v.ok).toBe(true);
    const names = v.checks.map((c) => c.name);
    for (const n of ['lots-match-entries', 'lot-expiry', 'member-debt', 'purchases-match-entries', 'entries-match-purchases', 'orders-match-refunds', 'refunds-match-entries', 'orders-match-entries', 'holds-match-entries', 'idempotency-keys-match-orders', 'outbox-sent-marks', 'outbox-matches-journal', 'hold-times', 'settings-match-init', 'rules-match-audit', 'expiry-takes-lapsed-lots']) {
      expect(names).toContain(n);
    }
    // Lots stored out of entry order (a ledger from elsewhere): verify reads them sorted and still passes.
    tamper(t.db, [
      'PRAGMA foreign_keys = OFF',
      'CREATE TEMP TABLE first AS SELECT min(id) AS old, (SELECT max(id) + 1 FROM lots) AS new FROM lots',
      'UPDATE lots SET id = (SELECT new FROM first) WHERE id = (SELECT old FROM first)',
      'DROP TRIGGER lot_moves_append_only_u',
      'UPDATE lot_moves SET lot_id = (SELECT new FROM first) WHERE lot_id = (SELECT old FROM first)',
      'UPDATE hold_lots SET lot_id = (SELECT new FROM first) WHERE lot_id = (SELECT old FROM first)',
    ]);
    expect(t.verify().ok).toBe(true);
  });

  // Trial 40: a paid checkout's hold_lots pointed at another (lapsed) lot passed verify, and its refund then
  // gave the points back into that lot, where they were lost to the member.
  it("catches a captured hold's lots edited, and what they count as returned", () => {
    const { t } = seeded();
    const db = new Database(t.db, { readonly: true });
    const [hold, lot] = db.prepare("SELECT hl.hold_id, hl.lot_id FROM hold_lots hl JOIN holds h ON h.id = hl.hold_id WHERE h.status = 'captured' ORDER BY hl.hold_id, hl.seq LIMIT 1").raw().get() as [number, number];
    const other = db.prepare('SELECT id FROM lots WHERE id NOT IN (SELECT lot_id FROM hold_lots WHERE hold_id = ?) ORDER BY id LIMIT 1').pluck().get(hold) as number;
    db.close();
    const copy = join(t.dir, 'copy.db');
    writeFileSync(copy, readFileSync(t.db));
    tamper(t.db, [`UPDATE hold_lots SET lot_id = ${other} WHERE hold_id = ${hold} AND lot_id = ${lot}`]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['hold-lots-match-moves']);
    expect(failed[0].detail).toMatch(new RegExp(`hold ${hold}: took \\d+ points from lot ${other} by its lots, 0 by the moves of its entry \\d+`));
    expect(failed[0].detail).toContain(`points from lot ${lot} by the moves of its entry`);
    const returned = { ...t, db: copy, run: (args: string[], o = {}) => t.run([...args, '--db', copy], o) } as TmpLedger;
    tamper(copy, [`UPDATE hold_lots SET returned = 0 WHERE hold_id = ${hold}`]);
    const r = failedChecks(returned);
    expect(r.map((c) => c.name)).toEqual(['hold-returns-match-refunds']);
    expect(r[0].detail).toMatch(new RegExp(`hold ${hold}: counts 0 points returned to its lots, order ORD-\\d+ refunded [1-9]\\d*`));
  });

  it("catches a lot's expiresOn moved to 2099", () => {
    const { t } = seeded();
    const db = new Database(t.db, { readonly: true });
    const lot = db.prepare("SELECT id, expires_on FROM lots WHERE member_id = 'a' AND remaining > 0 ORDER BY id LIMIT 1").get() as { id: number; expires_on: string };
    db.close();
    tamper(t.db, [`UPDATE lots SET expires_on = '2099-12-31' WHERE id = ${lot.id}`]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['lot-expiry']);
    expect(failed[0].detail).toContain(`lot ${lot.id}: expires on 2099-12-31`);
    expect(failed[0].detail).toContain(`gives ${lot.expires_on}`);
  });

  // A rules version's expiry and an expired lot's expiresOn edited together passed every check (the rules are
  // not chained): the lot's 500 points, which lapsed on 2026-11-04, were valid until 2036 and spendable.
  it("catches an expired lot whose expiresOn was moved past its expiry run, with the rules edited to match", () => {
    const t = tmpLedger({ timezone: 'Asia/Shanghai' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'One']);
    writeFileSync(join(t.dir, 'r.json'), '{"expiry":{"policy":"rolling-days","days":30}}');
    t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2026-01-01', '--yes'], { now: '2026-09-01T10:00:00+08:00' });
    writeFileSync(join(t.dir, 'p.csv'), 'order_id,member_id,purchased_at,amount\nO1,M1,2026-10-05 10:00,500.00\n');
    t.ok(['import', 'purchases', join(t.dir, 'p.csv')], { now: '2026-10-06T10:00:00+08:00' });
    expect(t.ok(['expire', 'run'], { now: '2026-11-20T10:00:00+08:00' })).toMatchObject({ pointsExpired: 500 });
    expect(t.verify().ok).toBe(true);
    const db = new Database(t.db, { readonly: true });
    const lot = db.prepare("SELECT id, expires_on FROM lots WHERE member_id = 'M1'").get() as { id: number; expires_on: string };
    const version = db.prepare('SELECT max(id) FROM rules_versions').pluck().get() as number;
    db.close();
    expect(lot.expires_on).toBe('2026-11-04');
    tamper(t.db, [`UPDATE rules_versions SET document = replace(document, '"days":30', '"days":3650') WHERE id = ${version}`, `UPDATE lots SET expires_on = '2036-10-02' WHERE id = ${lot.id}`]);
    const failed = failedChecks(t);
    // the edited version is not the one rules apply stored; the run's take is named on its own
    expect(failed.map((c) => c.name)).toEqual(['rules-match-audit', 'expiry-takes-lapsed-lots']);
    expect(failed[0].detail).toMatch(new RegExp(`^rules version ${version}: is not the document rules apply \\(audit \\d+\\) stored: edited since$`));
    expect(failed[1].detail).toContain(`expired 500 points of lot ${lot.id}, which expires on 2036-10-02: not before the run's date 2026-11-20`);
  });

  it('catches a purchase void that reopens more of a lot than expiry runs expired of it, or gives back without taking', () => {
    const t = rollingTenDays();
    importAt(t, 'p.csv', 'O1,M1,2025-11-02 10:00,500.00\n', '2025-11-02T12:00:00+08:00');
    t.ok(['member', 'adjust', 'M1', '--points', '500', '--reason', 'goodwill'], { now: '2025-11-03T10:00:00+08:00' });
    t.ok(['member', 'adjust', 'M1', '--points', '-300', '--reason', 'spent', '--yes'], { now: '2025-11-04T10:00:00+08:00' });
    t.ok(['expire', 'run'], { now: '2025-11-20T10:00:00+08:00' });
    // the void reopens 300 of the goodwill lot's 500 expired points
    expect(t.ok(['purchase', 'void', 'shop', 'O1', '--yes'], { now: '2025-11-20T10:00:00+08:00' })).toMatchObject({ expiredReversed: 500, debt: 0 });
    expect(t.verify().ok).toBe(true);
    tamperReopened(t, 'void', 300, 300, 500); // 600 of 500 expired
  });

  it('catches a return that reopens more of a lot than expiry runs expired of it, or gives back without taking', () => {
    const t = rollingTenDays();
    importAt(t, 'p.csv', 'O1,M1,2025-11-02 10:00,500.00\nO2,M1,2025-11-04 10:00,300.00\n', '2025-11-05T12:00:00+08:00');
    t.ok(['expire', 'run'], { now: '2025-11-13T10:00:00+08:00' }); // O1's lot (expiring 11-12) lapsed, O2's (11-14) not
    // a return dated 11-06, imported after the run: it reopens 200 of O1's lot's 500 expired points and takes them
    importAt(t, 'r.csv', 'R1,M1,2025-11-06 10:00,-200.00\n', '2025-11-13T10:00:00+08:00');
    expect(t.ok(['member', 'show', 'M1'], { now: '2025-11-13T10:00:00+08:00' })).toMatchObject({ balance: 300, debt: 0 });
    expect(t.verify().ok).toBe(true);
    tamperReopened(t, 'return', 200, 400, 500); // 600 of 500 expired
  });

  it('judges the lots of a large expiry run in parts, the tampered lot among the last', () => {
    const t = tmpLedger({ timezone: 'Asia/Shanghai' });
    t.ok(['member', 'add', '--id', 'M1', '--name', 'One']);
    writeFileSync(join(t.dir, 'r.json'), '{"expiry":{"policy":"rolling-days","days":30}}');
    t.ok(['rules', 'apply', join(t.dir, 'r.json'), '--effective', '2026-01-01', '--yes'], { now: '2026-09-01T10:00:00+08:00' });
    const rows = Array.from({ length: 1200 }, (_, i) => `O${i},M1,2026-10-05 10:00,1.00`);
    writeFileSync(join(t.dir, 'p.csv'), `order_id,member_id,purchased_at,amount\n${rows.join('\n')}\n`);
    t.ok(['import', 'purchases', join(t.dir, 'p.csv')], { now: '2026-10-06T10:00:00+08:00' });
    expect(t.ok(['expire', 'run'], { now: '2026-11-20T10:00:00+08:00' })).toMatchObject({ pointsExpired: 1200 });
    expect(t.verify().ok).toBe(true);
    const db = new Database(t.db, { readonly: true });
    const lots = db.prepare("SELECT id FROM lots WHERE member_id = 'M1' ORDER BY id").pluck().all() as number[];
    db.close();
    expect(lots).toHaveLength(1200);
    const late = lots[1100];
    tamper(t.db, [`UPDATE lots SET expires_on = '2026-11-20' WHERE id = ${late}`]);
    const failed = failedChecks(t).find((c) => c.name === 'expiry-takes-lapsed-lots');
    expect(failed?.detail).toContain(`expired 1 points of lot ${late}, which expires on 2026-11-20: not before the run's date 2026-11-20`);
  });

  it('catches points moved between two lots of one member', () => {
    const { t } = seeded();
    const db = new Database(t.db, { readonly: true });
    const lots = db.prepare("SELECT id FROM lots WHERE member_id = 'a' AND remaining >= 10 ORDER BY id").pluck().all() as number[];
    db.close();
    expect(lots.length).toBeGreaterThanOrEqual(2);
    tamper(t.db, [
      `UPDATE lots SET points = points - 10, remaining = remaining - 10 WHERE id = ${lots[0]}`,
      `UPDATE lots SET points = points + 10, remaining = remaining + 10 WHERE id = ${lots[1]}`,
    ]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toContain('lots-match-entries');
    expect(failed.find((c) => c.name === 'lots-match-entries')!.detail).toMatch(/entry \d+ \(accrual\): credits \d+ points/);
  });

  it('catches points moved between lots by added lot moves', () => {
    const { t } = seeded();
    const db = new Database(t.db, { readonly: true });
    const lots = db.prepare("SELECT id, entry_id FROM lots WHERE member_id = 'a' AND remaining >= 10 ORDER BY id").all() as { id: number; entry_id: number }[];
    db.close();
    tamper(t.db, [
      `INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (${lots[1].entry_id}, ${lots[0].id}, -10), (${lots[1].entry_id}, ${lots[1].id}, 10)`,
      `UPDATE lots SET remaining = remaining - 10 WHERE id = ${lots[0].id}`,
      `UPDATE lots SET remaining = remaining + 10 WHERE id = ${lots[1].id}`,
    ]);
    expect(failedChecks(t).map((c) => c.name)).toContain('lots-match-entries');
  });

  it("catches a purchase's order id renamed, which would let the same file accrue twice", () => {
    const { t } = seeded();
    tamper(t.db, ["UPDATE purchases SET order_id = 'O1-old' WHERE order_id = 'O1'"]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['purchases-match-entries']);
    expect(failed[0].detail).toMatch(/^purchase default:O1-old: was accrued by entry \d+ as default:O1: its key was changed/);
  });

  it("catches a purchase's row deleted, which would let a re-import accrue the order again", () => {
    const { t } = seeded();
    tamper(t.db, ['DROP TRIGGER purchases_no_delete', "DELETE FROM purchase_lines WHERE purchase_id = (SELECT id FROM purchases WHERE order_id = 'O2')", "DELETE FROM purchases WHERE order_id = 'O2'"]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['entries-match-purchases']);
    expect(failed[0].detail).toMatch(/^entry \d+: is the accrual of default:O2, but no purchase claims it: its purchase row was deleted, and a re-import would accrue the order again$/);
  });

  it("catches the outbox telling members what the journal did not: a confirmation's points or tender changed, a notice deleted", () => {
    const { t, orderId } = seeded();
    t.ok(['expire', 'run', '--as-of', '2027-12-01', '--force', '--yes']); // every lot lapses: one points.expired for a and b
    expect(t.verify().ok).toBe(true);
    const cases: [string[], RegExp][] = [
      [[`UPDATE outbox SET payload = replace(payload, '"pointsUsed":200', '"pointsUsed":20') WHERE dedupe_key = 'order.confirmed:${orderId}'`], new RegExp(`^outbox \\d+: confirms order ${orderId} for a with 20 points used, .* but the order is for a with 200 used`)],
      [[`UPDATE orders SET tender = 'card' WHERE id = '${orderId}'`], /by cash, but the order is for a with 200 used, \d+ earned, by card$/],
      [[`DELETE FROM outbox WHERE dedupe_key = 'order.confirmed:${orderId}'`], new RegExp(`^order ${orderId}: was paid, but its order.confirmed notification is gone$`)],
      [["DELETE FROM outbox WHERE topic = 'points.expired' AND member_id = 'b'"], /^entry \d+: expired points of member b, but its points.expired notification is gone$/],
      [["UPDATE outbox SET payload = json_set(payload, '$.points', 1) WHERE topic = 'points.expired' AND member_id = 'b'"], /^outbox \d+: says 1 points expired but expiry entry \d+ expired 60$/],
    ];
    const clean = readFileSync(t.db);
    for (const [sql, detail] of cases) {
      writeFileSync(t.db, clean);
      tamper(t.db, sql);
      const failed = failedChecks(t);
      // (a deleted notice that an export had marked sent also fails outbox-sent-marks)
      expect(failed.map((c) => c.name).filter((n) => n !== 'outbox-sent-marks'), sql[0]).toEqual(['outbox-matches-journal']);
      expect(failed.find((c) => c.name === 'outbox-matches-journal')!.detail).toMatch(detail);
    }
  });

  it("catches a hold's end pushed out (the member's points kept from them), and not a hold made under a longer setting since lowered", () => {
    const { t } = seeded();
    t.ok(['db', 'set', 'hold-minutes', '60']);
    const held = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--max-points']);
    t.ok(['db', 'set', 'hold-minutes', '15']);
    expect(t.verify().ok).toBe(true); // 60 minutes: the setting it was made under
    tamper(t.db, [`UPDATE holds SET expires_at = '2099-01-01T00:00:00.000Z' WHERE order_id = '${held.checkoutId}'`]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['hold-times']);
    expect(failed[0].detail).toMatch(new RegExp(`^hold \\d+ \\(order ${held.checkoutId}\\): runs from .* to 2099-01-01T00:00:00.000Z: \\d+ minutes, not within the longest hold the ledger's settings have allowed \\(60 minutes\\)$`));
  });

  it('a hold whose payment started may last hold-minutes past its fence (trial 28), not longer', () => {
    const { t } = seeded();
    const held = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--max-points']);
    const fence = new Date(Date.parse(held.createdAt) + 14 * 60_000).toISOString();
    const end = (minutes: number) => new Date(Date.parse(fence) + minutes * 60_000).toISOString();
    tamper(t.db, [`UPDATE orders SET paying_until = '${fence}' WHERE id = '${held.checkoutId}'`, `UPDATE holds SET expires_at = '${end(15)}' WHERE order_id = '${held.checkoutId}'`]);
    expect(t.verify().ok).toBe(true);
    tamper(t.db, [`UPDATE holds SET expires_at = '${end(16)}' WHERE order_id = '${held.checkoutId}'`]);
    expect(failedChecks(t).map((c) => c.name)).toEqual(['hold-times']);
  });

  it('catches the currency or the time zone changed after init (fixed for the ledger\'s life)', () => {
    const { t } = seeded();
    const clean = readFileSync(t.db);
    for (const [sql, detail] of [
      ["UPDATE settings SET value = 'USD' WHERE key = 'currency'", /^setting currency: is USD, but the ledger was made with CNY \(audit \d+, ledger.init\); it is fixed at init$/],
      ["UPDATE settings SET value = 'UTC' WHERE key = 'timezone'", /^setting timezone: is UTC, but the ledger was made with Asia\/Shanghai/],
    ] as const) {
      writeFileSync(t.db, clean);
      tamper(t.db, [sql]);
      const failed = failedChecks(t);
      expect(failed.map((c) => c.name)).toContain('settings-match-init');
      expect(failed.find((c) => c.name === 'settings-match-init')!.detail).toMatch(detail);
    }
  });

  it("catches an order's refund caches reset, which would let a second refund through", () => {
    const { t, orderId } = seeded();
    tamper(t.db, [
      `UPDATE orders SET refunded_points = 0, refunded_cash = 0, refunded_earned = 0, status = 'paid' WHERE id = '${orderId}'`,
      `UPDATE order_lines SET refunded_qty = 0, refunded_points = 0, refunded_cash = 0, refunded_earned = 0 WHERE order_id = '${orderId}'`,
    ]);
    const failed = failedChecks(t);
    // (and the hold's lots still count the refunded points as returned)
    expect(failed.map((c) => c.name)).toEqual(['hold-returns-match-refunds', 'orders-match-refunds']);
    expect(failed[1].detail).toContain(`order ${orderId}: caches 0 points / 0 cash / 0 earned refunded, but its refunds total`);
  });

  it('catches outbox rows marked sent without an export', () => {
    const { t } = seeded();
    tamper(t.db, ["UPDATE outbox SET sent_at = '2026-11-01T01:00:00.000Z' WHERE sent_at IS NULL"]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['outbox-sent-marks']);
    expect(failed[0].detail).toMatch(/^outbox \d+: is marked sent at 2026-11-01T01:00:00.000Z but no recorded export/);
  });

  it('catches a captured hold marked released, and a hold whose points were changed', () => {
    const { t, orderId } = seeded();
    tamper(t.db, [`UPDATE holds SET status = 'released' WHERE order_id = '${orderId}'`]);
    const failed = failedChecks(t).map((c) => c.name);
    expect(failed).toContain('holds-match-entries');
    expect(failed).toContain('orders-match-entries');
  });

  it('catches a checkout idempotency key cut loose from its order, which would let a retry pay again', () => {
    const { t } = seeded();
    t.ok(['checkout', '--member', 'b', '--item', 'TEA', '--no-points', '--tender', 'card', '--idempotency-key', 'till-7', '--yes']);
    tamper(t.db, ["UPDATE idempotency_keys SET order_id = NULL, result = NULL WHERE key = 'till-7'"]);
    const failed = failedChecks(t);
    expect(failed.map((c) => c.name)).toEqual(['idempotency-keys-match-orders']);
    expect(failed[0].detail).toBe('idempotency key till-7: names no order: a retry would pay again');
  });

  it("catches a voided return's void that gives points back to a lot the return never took them from", () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-11-01 10:00,100.00\nO2,a,2026-11-02 10:00,200.00\n');
    t.ok(['import', 'purchases', csv]);
    const ret = join(t.dir, 'r.csv');
    writeFileSync(ret, 'order_id,member_id,purchased_at,amount\nR1,a,2026-11-05 10:00,-50.00\n');
    t.ok(['import', 'purchases', ret]);
    expect(t.ok(['purchase', 'void', 'default', 'R1', '--yes'])).toMatchObject({ pointsGivenBack: 50 });
    expect(t.verify().ok).toBe(true);
    const db = new Database(t.db, { readonly: true });
    const v = db.prepare("SELECT m.entry_id, m.lot_id FROM lot_moves m JOIN entries e ON e.id = m.entry_id WHERE e.kind = 'void'").get() as { entry_id: number; lot_id: number };
    const other = db.prepare('SELECT id FROM lots WHERE id <> ? ORDER BY id DESC').pluck().get(v.lot_id) as number;
    db.close();
    // 10 of the 50 moved on to the other lot: every sum still agrees, the void's lot moves do not
    tamper(t.db, [
      `INSERT INTO lot_moves (entry_id, lot_id, points) VALUES (${v.entry_id}, ${v.lot_id}, -10), (${v.entry_id}, ${other}, 10)`,
      `UPDATE lots SET remaining = remaining - 10 WHERE id = ${v.lot_id}`,
      `UPDATE lots SET remaining = remaining + 10 WHERE id = ${other}`,
    ]);
    expect(failedChecks(t).map((c) => c.name)).toContain('lots-match-entries');
  });

  it("catches a member's debt cache changed", () => {
    const { t } = seeded();
    tamper(t.db, ["UPDATE members SET debt = 5, balance = balance - 5 WHERE id = 'b'"]);
    expect(failedChecks(t).map((c) => c.name)).toContain('member-debt');
  });

  it('exits 6 with the reason on a file of garbage bytes, and on a truncated ledger', () => {
    const { t } = seeded();
    const bytes = readFileSync(t.db);
    writeFileSync(t.db, Buffer.concat([bytes.subarray(0, 100), Buffer.alloc(bytes.length - 100, 0x5a)]));
    let r = t.run(['ledger', 'verify', '--json']);
    expect(r.code).toBe(6);
    expect(r.stdout).toBe('');
    expect(JSON.parse(r.stderr.trim()).error).toMatchObject({ code: 'LEDGER_CORRUPT' });
    expect(JSON.parse(r.stderr.trim()).error.message).toMatch(/malformed|not a database/);

    const junk = join(t.dir, 'junk.db');
    writeFileSync(junk, 'no SQLite header: the wrong path, not a damaged ledger\n');
    expect(t.run(['ledger', 'verify', '--db', junk]).code).toBe(2);
    expect(t.run(['ledger', 'verify', '--db', join(t.dir, 'missing.db')]).code).toBe(2); // a wrong path stays a usage error

    const u = seeded().t;
    truncateSync(u.db, Math.floor(readFileSync(u.db).length / 2));
    r = u.run(['ledger', 'verify']);
    expect(r.code).toBe(6);
    expect(r.stderr).toMatch(/^error: .*(malformed|not a database|damaged)/m);
  });
});

describe('a page of an index garbled (a disk, a bad copy): trial 34', () => {
  it('ledger verify fails (exit 6) on SQLite\'s own check of the file, and a command that meets the page says the ledger is damaged, not "check --db"', () => {
    // an index of several pages: its root page points at the others
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const many = join(t.dir, 'many.csv');
    writeFileSync(many, 'order_id,member_id,purchased_at,amount\n' + Array.from({ length: 3000 }, (_, i) => `O${i},a,2026-11-01 10:00,${1 + (i % 50)}.00`).join('\n') + '\n');
    expect(t.ok(['import', 'purchases', many])).toMatchObject({ accepted: 3000 });
    expect(existsSync(`${t.db}-wal`)).toBe(false);
    const db = new Database(t.db, { readonly: true });
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const root = Number(db.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'purchases_key'").pluck().get());
    db.close();
    const bytes = readFileSync(t.db);
    const at = (root - 1) * pageSize;
    bytes.fill(0xff, at + 100, at + pageSize - 100); // the page's cells, not its header
    writeFileSync(t.db, bytes);
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code, r.stderr).toBe(6);
    const failed = r.stdout ? (JSON.parse(r.stdout) as { checks: { name: string; ok: boolean; detail: string }[] }).checks.filter((c) => !c.ok) : [];
    if (r.stdout) expect(failed.map((c) => c.name)).toContain('sqlite-file');
    else expect(JSON.parse(r.stderr.trim()).error.code).toBe('LEDGER_CORRUPT');
    const csv = join(t.dir, 'more.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nZ9,a,2026-11-12 10:00,10.00\n');
    const imp = t.run(['import', 'purchases', csv, '--json']);
    expect(imp.code, imp.stderr + imp.stdout.slice(0, 300)).toBe(6);
    expect(JSON.parse(imp.stderr.trim()).error).toMatchObject({ code: 'LEDGER_CORRUPT' });
    expect(JSON.parse(imp.stderr.trim()).error.hint).toContain('pointsmall ledger verify');
  });

  it('a garbled page of the postings, met half way through verify\'s pass, is exit 6 naming the page, not an internal error (trial 35)', () => {
    const t = tmpLedger();
    for (const id of ['a', 'b', 'c']) t.ok(['member', 'add', '--id', id, '--name', id]);
    const many = join(t.dir, 'many.csv');
    writeFileSync(many, 'order_id,member_id,purchased_at,amount\n' + Array.from({ length: 3000 }, (_, i) => `O${i},${'abc'[i % 3]},2026-11-01 10:00,${1 + (i % 50)}.00`).join('\n') + '\n');
    expect(t.ok(['import', 'purchases', many])).toMatchObject({ accepted: 3000 });
    const db = new Database(t.db, { readonly: true });
    const pageSize = Number(db.pragma('page_size', { simple: true }));
    const leaves = db.prepare("SELECT pageno FROM dbstat WHERE name = 'postings' AND pagetype = 'leaf' ORDER BY pageno").pluck().all() as number[];
    db.close();
    expect(leaves.length).toBeGreaterThan(4);
    const page = leaves[0];
    const bytes = readFileSync(t.db);
    bytes.fill(0x5a, (page - 1) * pageSize + 8, (page - 1) * pageSize + 72); // its cell pointers
    writeFileSync(t.db, bytes);
    const r = t.run(['ledger', 'verify', '--json']);
    expect(r.code, r.stderr).toBe(6);
    const err = JSON.parse(r.stderr.trim()).error;
    expect(err.code).toBe('LEDGER_CORRUPT');
    expect(err.message).toContain(`page ${page}`);
    expect(t.run(['report', 'summary', '--json']).code).toBe(6);
  });

  it('a sound ledger passes SQLite\'s check of the file', () => {
    const { t } = seeded();
    const r = t.ok(['ledger', 'verify']);
    expect(r.checks.find((c: { name: string }) => c.name === 'sqlite-file')).toMatchObject({ ok: true });
  });
});

describe('lot expiry against the rules versions an entry could have seen', () => {
  it('a backfill run with a clock before a backdated version was applied still verifies, and the lot keeps its expiry', () => {
    const t = tmpLedger({ now: '2026-06-01T10:00:00+08:00' });
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    const rules = join(t.dir, 'never.json');
    writeFileSync(rules, JSON.stringify({ expiry: { policy: 'never' } }));
    t.ok(['rules', 'apply', rules, '--effective', '2026-01-01']); // applied on 2026-06-01, in force from January
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-02-01 10:00,100.00\n');
    // a backfill whose clock reads March: the entry is written after the version, though its time says earlier
    t.ok(['import', 'purchases', csv], { now: '2026-03-01T10:00:00+08:00' });
    expect(t.ok(['member', 'show', 'a'], { now: '2026-03-01T10:00:00+08:00' }).lots[0].expiresOn).toBeNull();
    expect(t.run(['ledger', 'verify', '--json']).code).toBe(0);
    // and a lot whose expiry was edited away from what its version gives still fails
    tamper(t.db, ["UPDATE lots SET expires_on = '2027-02-01'"]);
    expect(failedChecks(t).map((c) => c.name)).toContain('lot-expiry');
  });
});
