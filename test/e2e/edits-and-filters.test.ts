// Edits, filters and repeats that few other files reach, on one small shop: a member's fields changed and
// members listed by status; an item changed, reactivated and listed by category; the expiring-points notice
// queued once however often it is asked for; recommendations read from lines, a partial return, a points
// redemption and the members' tiers. A shared file: on PostgreSQL it is in PG_CORE, where it stands for the
// files whose only store code of their own is one of these paths (members, catalog, expire, recommend).
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FIXTURES, sceneLedger, type TmpLedger } from '../helpers/cli.js';

const NOW = { now: '2026-11-23T10:00:00+08:00' };

function shop(): TmpLedger {
  return sceneLedger('edits-and-filters', (t) => {
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2025-01-01'], { now: '2025-01-01T00:00:00+08:00' });
    t.ok(['member', 'add', '--id', 'M001', '--name', 'Ann', '--phone', '+8613800000001']);
    t.ok(['member', 'add', '--id', 'M002', '--name', 'Bo', '--email', 'bo@example.com']);
    t.ok(['member', 'add', '--id', 'M003', '--name', 'Cy']);
    t.ok(['catalog', 'add', '--sku', 'TEA-001', '--name', 'Longjing', '--price', '168.00', '--category', 'tea', '--points-price', '1500']);
    t.ok(['catalog', 'add', '--sku', 'TEA-002', '--name', 'Pu-erh', '--price', '98.00', '--category', 'tea', '--points-price', '900']);
    t.ok(['catalog', 'add', '--sku', 'CUP-001', '--name', 'Tea cup', '--price', '58.00', '--category', 'cups', '--points-price', '500']);
    const csv = join(t.dir, 'sales.csv');
    writeFileSync(
      csv,
      'order_id,member_id,purchased_at,sku,category,quantity,unit_price\n' +
        'S1,M001,2025-11-30 10:00,TEA-001,tea,2,168.00\n' +
        'S1,M001,2025-11-30 10:00,CUP-001,cups,2,58.00\n' +
        'S2,M002,2026-03-01 11:00,TEA-001,tea,1,168.00\n' +
        'S2,M002,2026-03-01 11:00,CUP-001,cups,1,58.00\n' +
        'S3,M003,2026-05-01 12:00,TEA-002,tea,1,98.00\n' +
        'S4,M002,2026-06-01 09:00,TEA-002,tea,1,98.00\n' +
        // half of S1's tea comes back: M001 keeps one
        'R1,M001,2026-06-02 09:00,TEA-001,tea,-1,168.00\n',
    );
    t.ok(['import', 'purchases', csv, '--source', 'till']);
    // a redemption: M002 pays a cup with points
    t.ok(['checkout', '--member', 'M002', '--item', 'CUP-001', '--max-points', '--tender', 'cash', '--yes']);
  });
}

describe('edits and filters, on every backend', () => {
  it('member update changes only the fields given; member list --status lists that status only', () => {
    const t = shop();
    const u = t.ok(['member', 'update', 'M003', '--name', 'Cyra', '--phone', '+8613800000003', '--tier', 'gold']);
    expect(u).toMatchObject({ id: 'M003', name: 'Cyra', phone: '+8613800000003', tier: 'gold' });
    expect(t.ok(['member', 'show', 'M003'])).toMatchObject({ name: 'Cyra', phone: '+8613800000003', email: null });
    t.ok(['member', 'freeze', 'M002', '--reason', 'card lost', '--yes']);
    expect(t.ok(['member', 'list', '--status', 'frozen']).map((m: { id: string }) => m.id)).toEqual(['M002']);
    expect(t.ok(['member', 'list', '--status', 'active']).map((m: { id: string }) => m.id)).toEqual(['M001', 'M003']);
    expect(t.verify().ok).toBe(true);
  });

  it('catalog update replaces an item\'s fields, activate brings a deactivated one back, list --category filters', () => {
    const t = shop();
    expect(t.ok(['catalog', 'update', 'TEA-002', '--price', '88.00', '--name', 'Pu-erh cake'])).toMatchObject({ sku: 'TEA-002', name: 'Pu-erh cake', price: '88.00', category: 'tea' });
    t.ok(['catalog', 'deactivate', 'TEA-001']);
    expect(t.ok(['catalog', 'list', '--category', 'tea']).map((c: { sku: string }) => c.sku)).toEqual(['TEA-002']);
    t.ok(['catalog', 'activate', 'TEA-001']);
    expect(t.ok(['catalog', 'list', '--category', 'tea']).map((c: { sku: string }) => c.sku)).toEqual(['TEA-001', 'TEA-002']);
    expect(t.ok(['catalog', 'list', '--category', 'cups']).map((c: { sku: string }) => c.sku)).toEqual(['CUP-001']);
  });

  it('expire preview --notify queues each expiring lot\'s notice once, however often it runs', () => {
    const t = shop();
    // S1's lot (earned 2025-11-30, 365 days) expires on 2026-11-30, within two weeks of the clock
    const first = t.ok(['expire', 'preview', '--within', '2w', '--notify'], NOW);
    expect(first).toMatchObject({ members: 1, notificationsQueued: 1 });
    expect(first.rows[0]).toMatchObject({ memberId: 'M001', firstExpiresOn: '2026-11-30' });
    expect(t.ok(['expire', 'preview', '--within', '2w', '--notify'], NOW).notificationsQueued).toBe(0);
    const box = t.ok(['outbox', 'list'], NOW) as { topic: string; memberId: string; channel: string }[];
    expect(box.filter((b) => b.topic === 'points.expiring').map((b) => [b.memberId, b.channel])).toEqual([['M001', 'sms']]);
  });

  it('report recommend reads the lines net of the partial return, the redemption and the tiers', () => {
    const t = shop();
    type Rec = { sku: string; reason: string; pointsPrice: number | null };
    // M003 bought Pu-erh only: the tea cup is bought together with tea by others
    const m3: Rec[] = t.ok(['report', 'recommend', '--member', 'M003']).recommendations;
    expect(m3.map((r) => r.sku)).toContain('CUP-001');
    // M001 returned one of two Longjing: still bought it, once kept
    const m1: Rec[] = t.ok(['report', 'recommend', '--member', 'M001', '--top', '5']).recommendations;
    expect(m1.find((r) => r.sku === 'TEA-001')?.reason).toMatch(/^bought it/);
    // the redemption of the cup with points counts for the members' tier
    const seg = t.ok(['report', 'recommend', '--segment', 'tier=silver']);
    expect(seg.members).toBe(3);
    expect(seg.recommendations.length).toBeGreaterThan(0);
    for (const r of seg.recommendations as Rec[]) expect(r.pointsPrice).not.toBeNull();
    expect(t.verify().ok).toBe(true);
  });
});
