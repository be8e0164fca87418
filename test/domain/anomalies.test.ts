import { describe, expect, it } from 'vitest';
import { type AnomalyFacts, detectAnomalies, phoneKey } from '../../src/domain/anomalies.js';

const empty = (): AnomalyFacts => ({ refunds: [], returns: [], purchases: [], adjusts: [], pointsOrders: [], contacts: [] });
const refund = (memberId: string, orderId: string, paidAt: string, at: string, orderEarned = 100) => ({ refundId: 1, orderId, memberId, at, paidAt, points: 0, cash: 10000, earned: orderEarned, orderEarned });

describe('detectAnomalies', () => {
  it('a refund exactly 7 days after earning is quick, a minute later is not; one that took back no earned points is not', () => {
    const f = empty();
    f.refunds = [refund('A', 'O1', '2026-11-01T00:00:00.000Z', '2026-11-08T00:00:00.000Z'), refund('B', 'O2', '2026-11-01T00:00:00.000Z', '2026-11-08T00:01:00.000Z'), refund('C', 'O3', '2026-11-01T00:00:00.000Z', '2026-11-02T00:00:00.000Z', 0)];
    expect(detectAnomalies(f, 2).map((m) => m.memberId)).toEqual(['A']);
  });

  it('many refunds starts at three; a large adjust starts at 1000 points and the spend must follow within 24 hours', () => {
    const f = empty();
    f.refunds = [1, 2].map((i) => refund('A', `O${i}`, '2026-10-01T00:00:00.000Z', `2026-11-0${i}T00:00:00.000Z`));
    f.returns = [{ source: 's', orderId: 'R1', memberId: 'A', at: '2026-11-03T00:00:00.000Z', kind: 'return', amount: -500, points: -5 }];
    f.adjusts = [
      { entryId: 1, memberId: 'B', at: '2026-11-01T00:00:00.000Z', points: 999, reason: null },
      { entryId: 2, memberId: 'C', at: '2026-11-01T00:00:00.000Z', points: 1000, reason: 'x' },
      { entryId: 3, memberId: 'D', at: '2026-11-01T00:00:00.000Z', points: 5000, reason: 'y' },
    ];
    f.pointsOrders = [
      { orderId: 'B1', memberId: 'B', paidAt: '2026-11-01T01:00:00.000Z', pointsUsed: 900, total: 1000 },
      { orderId: 'C1', memberId: 'C', paidAt: '2026-11-02T00:00:00.000Z', pointsUsed: 900, total: 1000 },
      { orderId: 'D1', memberId: 'D', paidAt: '2026-11-02T00:00:01.000Z', pointsUsed: 900, total: 1000 },
    ];
    const out = detectAnomalies(f, 2);
    expect(out.map((m) => [m.memberId, m.findings.map((x) => x.signal)])).toEqual([
      ['A', ['many-refunds']],
      ['C', ['spend-after-adjust']],
    ]);
  });

  it('reads a phone by its last 11 digits and an email in lower case', () => {
    expect(phoneKey('+86 138-0000-0001')).toBe('13800000001');
    expect(phoneKey('1234')).toBeNull();
    const f = empty();
    f.contacts = [
      { memberId: 'A', phone: null, email: 'X@Mail.com ' },
      { memberId: 'B', phone: null, email: 'x@mail.com' },
      { memberId: 'C', phone: '1', email: 'x@MAIL.com' },
      { memberId: 'D', phone: '1', email: 'y@mail.com' },
    ];
    expect(detectAnomalies(f, 2).map((m) => [m.memberId, m.findings[0].detail])).toEqual([
      ['A', '3 members share the email x@mail.com'],
      ['B', '3 members share the email x@mail.com'],
      ['C', '3 members share the email x@mail.com'],
    ]);
  });
});
