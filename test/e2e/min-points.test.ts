// SPEC §4.6: redeem.minPoints applies to the mixed lines' part; points-only lines always take their
// points (trial 2, finding 8). On the demo ledger (minPoints 100), a cable (mixed) and a tote bag
// (points-only, 3000 points): 3000 alone, or 3000 + at least 100 on the cable.
import { beforeAll, describe, expect, it } from 'vitest';
import { type TmpLedger, demoLedger } from '../helpers/cli.js';

let demo: TmpLedger;
beforeAll(() => {
  demo = demoLedger();
}, 300_000);

const cart = ['--member', 'M002', '--item', 'ELEC-003:2', '--item', 'GIFT-001'];

describe('redeem.minPoints with points-only items', () => {
  it('applies to the mixed lines\' part: 3001 is refused (exit 3), 3000 and 3100 are used exactly', () => {
    const q = demo.ok(['checkout', 'quote', ...cart]);
    expect(q).toMatchObject({ minPoints: 100, requiredPoints: 3000, pointsUsed: 3000, allowedPoints: { required: 3000, min: 3100, step: 1 } });
    expect(q.allowedText).toBe(`3000 (the points-only items), or 3100 to ${q.allowedPoints.max}`);
    for (const points of ['3001', '3099']) {
      const r = demo.run(['checkout', 'quote', ...cart, '--points', points, '--json']);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toBe('');
      const e = JSON.parse(r.stderr.trim()).error;
      expect(e.code).toBe('POINTS_NOT_ALLOWED');
      expect(e.message).toContain(`allowed: 3000 (the points-only items), or 3100 to ${q.allowedPoints.max}`);
    }
    expect(demo.ok(['checkout', 'quote', ...cart, '--points', '3100'])).toMatchObject({ pointsUsed: 3100, pointsValue: '40.00' });
    expect(demo.ok(['checkout', 'quote', ...cart, '--points', '3000'])).toMatchObject({ pointsUsed: 3000, pointsValue: '39.00' });
  });
});
