// report anomalies (issue 18): each documented signal, with its evidence, through the built bin.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

describe('report anomalies', () => {
  it('flags quick returns, many refunds, spending right after a large adjust and shared contacts, with the evidence', () => {
    const t = tmpLedger();
    const at = (d: string) => ({ now: `${d}+08:00` });
    for (const [id, phone] of [['M1', ''], ['M2', ''], ['M3', '138 0000 0001'], ['M4', '+8613800000001'], ['M5', '13800000001'], ['M6', ''], ['M7', '13800000001']] as const) {
      t.ok(['member', 'add', '--id', id, '--name', `Member ${id}`, ...(phone ? ['--phone', phone] : [])], at('2026-10-01T09:00:00'));
    }
    // M3..M5 and M7: same number written three ways; M7's email is shared by nobody
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '100.00', '--stock', '100'], at('2026-10-01T09:00:00'));
    const buy = (m: string, when: string, extra: string[] = []) => t.ok(['checkout', '--member', m, '--item', 'TEA', '--tender', 'cash', '--yes', ...(extra.length ? extra : ['--no-points'])], at(when)).orderId as string;
    const refund = (o: string, when: string) => t.ok(['order', 'refund', o, '--reason', 'returned', '--yes'], at(when));

    // M1: two checkouts refunded within days, and an imported purchase returned two days later = 3
    const o1 = buy('M1', '2026-11-10T10:00:00');
    refund(o1, '2026-11-12T10:00:00');
    const o2 = buy('M1', '2026-11-11T10:00:00');
    refund(o2, '2026-11-20T10:00:00'); // 9 days: not quick, but a refund
    const f = join(t.dir, 'p.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nP1,M1,2026-11-01 10:00,200.00\nP2,M1,2026-11-03 10:00,-200.00\nP3,M6,2026-11-01 10:00,50.00\n');
    t.ok(['import', 'purchases', f], at('2026-11-05T10:00:00'));
    // M6: a refund a month after paying: no signal
    const o6 = buy('M6', '2026-10-10T10:00:00');
    refund(o6, '2026-11-15T10:00:00');
    // M2: a large manual credit, spent 10 hours later; a small one is no signal
    t.ok(['member', 'adjust', 'M2', '--points', '2000', '--reason', 'goodwill'], at('2026-11-15T10:00:00'));
    const o3 = buy('M2', '2026-11-15T20:00:00', ['--points', '1000']);

    const r = t.ok(['report', 'anomalies', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(r.thresholds).toEqual({ quickReturnDays: 7, manyRefunds: 3, largeAdjustPoints: 1000, spendAfterAdjustHours: 24, sharedContactMembers: 3 });
    const by = Object.fromEntries(r.members.map((m: { memberId: string }) => [m.memberId, m]));
    expect(Object.keys(by)).toEqual(['M1', 'M2', 'M3', 'M4', 'M5', 'M7']);
    expect(by.M1.signals).toEqual(['quick-return', 'many-refunds']);
    const quick = by.M1.findings[0].evidence;
    expect(quick).toEqual([
      expect.objectContaining({ orderId: o1, returnedAt: '2026-11-12T02:00:00.000Z', days: 2, refundCash: '100.00' }),
      expect.objectContaining({ orderId: 'P1', returnOrderId: 'P2', returnAmount: '200.00', pointsTakenBack: 200, days: 2 }),
    ]);
    expect(by.M1.findings[1].evidence.map((e: { orderId: string }) => e.orderId)).toEqual(['P2', o1, o2]);
    expect(by.M2.signals).toEqual(['spend-after-adjust']);
    expect(by.M2.findings[0].evidence).toEqual([expect.objectContaining({ adjustPoints: 2000, reason: 'goodwill', orderId: o3, pointsUsed: 1000, total: '100.00', hours: 10 })]);
    expect(by.M3.findings[0]).toMatchObject({ signal: 'shared-contact', detail: '4 members share the phone 13800000001' });
    expect(by.M3.findings[0].evidence.map((e: { memberId: string }) => e.memberId)).toEqual(['M3', 'M4', 'M5', 'M7']);

    // another period: only the shared contact remains (master data, not dated)
    const oct = t.ok(['report', 'anomalies', '--from', '2026-10-01', '--to', '2026-10-31']);
    expect(oct.members.map((m: { memberId: string }) => m.memberId)).toEqual(['M3', 'M4', 'M5', 'M7']);

    const csv = t.run(['report', 'anomalies', '--from', '2026-11-01', '--to', '2026-11-30', '--format', 'csv']);
    expect(csv.code).toBe(0);
    expect(csv.stdout.split(/\r?\n/)[0]).toBe('member,name,signal,detail,evidence');
    const table = t.run(['report', 'anomalies', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(table.stdout).toMatch(/spend-after-adjust/);
    expect(table.stdout).toMatch(/adjustPoints 2000/);
    // evidence times are shown to people in the ledger's zone (Asia/Shanghai here), whatever the process's
    // TZ, without milliseconds (SPEC §7); JSON keeps UTC ISO 8601 (above)
    for (const TZ of ['UTC', 'America/New_York']) {
      const human = t.run(['report', 'anomalies', '--from', '2026-11-01', '--to', '2026-11-30'], { env: { TZ } });
      expect(human.stdout).toContain('returnedAt 2026-11-12 10:00');
      expect(human.stdout).not.toMatch(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/);
      const txt = join(t.dir, `anomalies-${TZ.replace('/', '-')}.txt`);
      expect(t.run(['report', 'anomalies', '--from', '2026-11-01', '--to', '2026-11-30', '--out', txt], { env: { TZ } }).code).toBe(0);
      expect(readFileSync(txt, 'utf8')).toContain('returnedAt 2026-11-12 10:00');
    }
    expect(t.run(['report', 'anomalies', '--from', '2026-11-30', '--to', '2026-11-01']).code).toBe(2);
  });
});
