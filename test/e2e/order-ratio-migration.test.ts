// Migration 15: mixed order lines keep their points ratio, so ledger verify can prove how an order's points
// were spread over its mixed lines. A ledger from before keeps its old orders without one (verify checks
// them line by line, as before, and refunds them as before); new checkouts write it. Both backends.
import { describe, expect, it } from 'vitest';
import { latestVersion } from '../../src/store/migrations/index.js';
import { type TmpLedger, openLedgerDb, tmpLedger } from '../helpers/cli.js';

const ratios = (t: TmpLedger, order: string): (string | null)[] => {
  const db = openLedgerDb(t.db);
  try {
    return db.prepare('SELECT points_ratio FROM order_lines WHERE order_id = ? ORDER BY line_no').pluck().all(order) as (string | null)[];
  } finally {
    db.close();
  }
};

describe('migration 15: the ratio of a mixed order line', () => {
  it('a schema-14 ledger is refused, migrates, verifies; its orders refund as before and new ones keep the ratio', () => {
    const t = tmpLedger();
    t.ok(['member', 'add', '--id', 'M1', '--name', 'A']);
    t.ok(['member', 'adjust', 'M1', '--points', '100000', '--reason', 'seed', '--yes']);
    t.ok(['catalog', 'add', '--sku', 'A', '--name', 'A', '--price', '100.00']);
    t.ok(['catalog', 'add', '--sku', 'B', '--name', 'B', '--price', '100.00', '--max-points-ratio', '0.25']);
    t.ok(['catalog', 'add', '--sku', 'C', '--name', 'C', '--price', '10.00', '--pay', 'cash']);
    const old = t.ok(['checkout', '--member', 'M1', '--item', 'A', '--item', 'B', '--item', 'C', '--points', '6000', '--tender', 'card', '--yes']);
    expect(ratios(t, old.orderId)).toEqual(['1', '0.25', null]);
    // back to schema 14: the column gone, as a ledger written before this build has it
    const db = openLedgerDb(t.db);
    db.exec('ALTER TABLE order_lines DROP COLUMN points_spread; ALTER TABLE order_lines DROP COLUMN points_ratio');
    db.pragma('user_version = 14');
    db.close();
    const refused = t.run(['member', 'list', '--json']);
    expect(refused.code).toBe(2);
    expect(JSON.parse(refused.stderr.trim()).error.code).toBe('LEDGER_TOO_OLD');
    expect(t.ok(['db', 'migrate'])).toMatchObject({ from: 14, to: latestVersion() });
    expect(ratios(t, old.orderId)).toEqual([null, null, null]);
    expect(t.verify().ok).toBe(true);
    // the order from before refunds line by line as it was paid: A carried 4800 points (6000 spread 100 : 25)
    expect(t.ok(['order', 'refund', old.orderId, '--line', 'A:1', '--yes'])).toMatchObject({ pointsReturned: 4800, cashRefunded: '52.00' });
    const next = t.ok(['checkout', '--member', 'M1', '--item', 'A', '--item', 'B', '--points', '6000', '--tender', 'card', '--yes']);
    expect(ratios(t, next.orderId)).toEqual(['1', '0.25']);
    expect(t.verify().ok).toBe(true);
  });
});
