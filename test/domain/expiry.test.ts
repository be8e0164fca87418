import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultAsOf, expiresBy, expiryEntryAt, type ExpiringLot, inWindow, planExpiry, previewWindow } from '../../src/domain/expiry.js';
import { chooseChannel, csvCell, renderOutbox, type OutboxRecord } from '../../src/domain/notifications.js';
import { addDays } from '../../src/domain/time.js';

describe('expiresBy (§4.4: usable through expiresOn)', () => {
  it('expires a lot whose expiresOn is before the as-of date', () => {
    expect(expiresBy('2026-11-22', '2026-11-23')).toBe(true);
  });
  it('keeps a lot on its expiresOn day', () => {
    expect(expiresBy('2026-11-23', '2026-11-23')).toBe(false);
  });
  it('never expires a lot without expiresOn', () => {
    expect(expiresBy(null, '9999-12-31')).toBe(false);
  });
});

describe('defaultAsOf and expiryEntryAt', () => {
  it('takes today in the ledger zone, not UTC', () => {
    // 2026-11-22T17:00Z is already 2026-11-23 01:00 in Shanghai
    expect(defaultAsOf(Date.parse('2026-11-22T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-11-23');
    expect(defaultAsOf(Date.parse('2026-11-22T17:00:00Z'), 'UTC')).toBe('2026-11-22');
  });
  it('dates a run the last millisecond before the as-of day starts in the ledger zone', () => {
    const now = Date.parse('2026-11-23T02:00:00Z');
    expect(expiryEntryAt('2026-11-23', now, 'Asia/Shanghai')).toBe('2026-11-22T15:59:59.999Z');
    expect(expiryEntryAt('2026-01-01', now, 'Asia/Shanghai')).toBe('2025-12-31T15:59:59.999Z');
  });
  it('never dates a run with a future as-of later than the run itself', () => {
    const now = Date.parse('2026-11-23T02:00:00Z');
    expect(expiryEntryAt('2027-03-01', now, 'Asia/Shanghai')).toBe('2026-11-23T02:00:00.000Z');
  });
});

const lotArb = fc.record({
  id: fc.integer({ min: 1, max: 1_000_000 }),
  memberId: fc.constantFrom('a', 'b', 'c', 'd'),
  remaining: fc.integer({ min: 0, max: 10_000 }),
  expiresOn: fc.option(fc.integer({ min: 0, max: 800 }).map((d) => addDays('2025-06-01', d)), { nil: null }),
});
const dateArb = fc.integer({ min: 0, max: 800 }).map((d) => addDays('2025-06-01', d));

describe('planExpiry', () => {
  it('expires exactly the remaining points of lots with expiresOn before the as-of date', () => {
    fc.assert(
      fc.property(fc.array(lotArb, { maxLength: 60 }), dateArb, (lots, asOf) => {
        const { members, summary } = planExpiry(lots, asOf);
        const due = lots.filter((l) => l.remaining > 0 && l.expiresOn !== null && l.expiresOn < asOf);
        expect(summary.lotsExpired).toBe(due.length);
        expect(summary.pointsExpired).toBe(due.reduce((a, l) => a + l.remaining, 0));
        expect(members.reduce((a, m) => a + m.points, 0)).toBe(summary.pointsExpired);
        expect(members.reduce((a, m) => a + m.lots, 0)).toBe(summary.lotsExpired);
        expect(summary.members).toBe(new Set(due.map((l) => l.memberId)).size);
        expect(members.map((m) => m.memberId)).toEqual([...members.map((m) => m.memberId)].sort());
      }),
    );
  });

  it('is idempotent: after applying a run, the same as-of expires nothing', () => {
    fc.assert(
      fc.property(fc.array(lotArb, { maxLength: 60 }), dateArb, (lots, asOf) => {
        const after: ExpiringLot[] = lots.map((l) => (expiresBy(l.expiresOn, asOf) ? { ...l, remaining: 0 } : l));
        expect(planExpiry(after, asOf).summary).toMatchObject({ lotsExpired: 0, pointsExpired: 0, members: 0 });
      }),
    );
  });

  it('a backdated run then a later run expire together what one later run expires', () => {
    fc.assert(
      fc.property(fc.array(lotArb, { maxLength: 60 }), dateArb, dateArb, (lots, d1, d2) => {
        const [early, late] = d1 < d2 ? [d1, d2] : [d2, d1];
        const first = planExpiry(lots, early).summary.pointsExpired;
        const rest = lots.map((l) => (expiresBy(l.expiresOn, early) ? { ...l, remaining: 0 } : l));
        expect(first + planExpiry(rest, late).summary.pointsExpired).toBe(planExpiry(lots, late).summary.pointsExpired);
      }),
    );
  });
});

describe('previewWindow', () => {
  it('covers today through today + N days inclusive', () => {
    const w = previewWindow('2026-11-23', { days: 30, months: 0 });
    expect(w).toEqual({ from: '2026-11-23', to: '2026-12-23' });
    expect(inWindow('2026-11-23', w)).toBe(true);
    expect(inWindow('2026-12-23', w)).toBe(true);
    expect(inWindow('2026-12-24', w)).toBe(false);
    expect(inWindow('2026-11-22', w)).toBe(false);
    expect(inWindow(null, w)).toBe(false);
  });
});

describe('chooseChannel (SPEC: phone → sms, else email → email, else none)', () => {
  it('prefers the phone', () => {
    expect(chooseChannel({ phone: '+8613800138000', email: 'a@b.c' })).toEqual({ channel: 'sms', recipient: '+8613800138000' });
  });
  it('falls back to the email', () => {
    expect(chooseChannel({ phone: null, email: 'a@b.c' })).toEqual({ channel: 'email', recipient: 'a@b.c' });
    expect(chooseChannel({ phone: '  ', email: 'a@b.c' })).toEqual({ channel: 'email', recipient: 'a@b.c' });
  });
  it('has none without contact', () => {
    expect(chooseChannel({ phone: null, email: '' })).toEqual({ channel: 'none', recipient: null });
    expect(chooseChannel(undefined)).toEqual({ channel: 'none', recipient: null });
  });
});

describe('renderOutbox', () => {
  const rec: OutboxRecord = {
    id: 7,
    createdAt: '2026-11-23T02:00:00.000Z',
    topic: 'points.expired',
    memberId: '=cmd',
    channel: 'sms',
    recipient: '+8613800138000',
    dedupeKey: 'expired:2026-11-23:x',
    payload: { points: 5, note: 'a,"b"' },
    sentAt: null,
  };
  it('writes one JSON object per line', () => {
    const text = renderOutbox([rec, { ...rec, id: 8 }], 'jsonl');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(JSON.parse(lines[0])).toEqual(rec);
  });
  it('writes CSV with a header, quotes JSON payloads, keeps phone numbers and defuses formulas', () => {
    const text = renderOutbox([rec], 'csv');
    const [head, row] = text.split('\r\n');
    expect(head).toBe('id,createdAt,topic,memberId,channel,recipient,dedupeKey,payload,sentAt');
    expect(row).toContain(",'=cmd,sms,+8613800138000,");
    expect(row).toContain('"{""points"":5,""note"":""a,\\""b\\""""}"');
  });
  it('csvCell leaves plain values alone', () => {
    expect(csvCell(42)).toBe('42');
    expect(csvCell(null)).toBe('');
    expect(csvCell('-5')).toBe('-5');
    expect(csvCell('@x')).toBe("'@x");
  });
  it('csvCell leaves a phone number alone, and quotes anything after a + that a spreadsheet could run', () => {
    expect(csvCell('+8613800138000')).toBe('+8613800138000');
    expect(csvCell('+86 138 0013 8000')).toBe('+86 138 0013 8000');
    expect(csvCell('+1+2')).toBe("'+1+2");
    expect(csvCell('+SUM(1)')).toBe("'+SUM(1)");
    expect(csvCell('+ 1')).toBe("'+ 1");
    expect(csvCell('+')).toBe("'+");
  });
});
