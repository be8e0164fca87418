// An expiry is never booked before the points it expires came back (trial F8): points a refund gives back to a
// lapsed lot after the run's booking time (the end of the day before its as-of date) are expired at the time
// they came back, so January does not close with them expired and not yet returned. Both backends.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

describe('an expiry run after a refund into a lapsed lot', () => {
  it("books that member's expiry when the points came back; the others at the end of the day before as-of", () => {
    const t = tmpLedger({ timezone: 'UTC', now: '2025-01-01T23:00:00Z' });
    for (const id of ['M1', 'M2']) t.ok(['member', 'add', '--id', id, '--name', id], { now: '2025-01-01T23:00:00Z' });
    t.ok(['catalog', 'add', '--sku', 'G1', '--name', 'G', '--price', '10.00'], { now: '2025-01-01T23:00:00Z' });
    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,M1,2025-01-01 10:00,500.00\nO2,M2,2025-01-01 10:00,300.00\n');
    t.ok(['import', 'purchases', csv], { now: '2025-01-01T23:00:00Z' }); // lots expire 2026-01-01 (365 days)
    const paid = t.ok(['checkout', '--member', 'M1', '--item', 'G1', '--points', '500', '--yes'], { now: '2025-12-01T10:00:00Z' });
    expect(paid.pointsUsed).toBe(500);
    // 00:05: the 500 go back to their lot, lapsed since 2026-01-01; 00:10: the nightly run
    t.ok(['order', 'refund', paid.orderId, '--yes'], { now: '2026-02-01T00:05:00Z' });
    const run = t.ok(['expire', 'run'], { now: '2026-02-01T00:10:00Z' });
    expect(run).toMatchObject({ asOf: '2026-02-01', pointsExpired: 800, members: 2, at: '2026-01-31T23:59:59.999Z' });
    const expiries = t.ok(['ledger', 'entries', '--kind', 'expiry']) as { memberId: string; at: string }[];
    expect(Object.fromEntries(expiries.map((e) => [e.memberId, e.at]))).toEqual({ M1: '2026-02-01T00:05:00.000Z', M2: '2026-01-31T23:59:59.999Z' });
    // January: M1 held the 5 points its order earned all month; M2's 300 lapsed in it
    const jan = t.ok(['report', 'summary', '--from', '2026-01-01', '--to', '2026-01-31'], { now: '2026-02-01T00:10:00Z' });
    expect(jan).toMatchObject({ expired: 300, closingBalance: 5 });
    const liability = t.ok(['report', 'liability', '--as-of', '2026-01-31'], { now: '2026-02-01T00:10:00Z' });
    expect(liability).toMatchObject({ outstandingPoints: 5, lapsedPendingPoints: 0 });
    const feb = t.ok(['report', 'summary', '--from', '2026-02-01', '--to', '2026-02-28'], { now: '2026-02-01T00:10:00Z' });
    expect(feb).toMatchObject({ openingBalance: 5, expired: 500, closingBalance: 0 });
    expect(t.verify().ok).toBe(true);
  });
});
