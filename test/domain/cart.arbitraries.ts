// Random carts for the split properties (split.test.ts, split-lines.test.ts): a line of any pay mode, with
// or without a points price and a ratio of its own, and every kind of points request.
import fc from 'fast-check';
import type { CartLine, PointsRequest } from '../../src/domain/split.js';

export const arbLine = fc.record({
  pay: fc.constantFrom<CartLine['pay']>('mixed', 'mixed', 'cash', 'points'),
  quantity: fc.integer({ min: 1, max: 5 }),
  unitPrice: fc.integer({ min: 0, max: 100000 }),
  pointsPrice: fc.option(fc.integer({ min: 1, max: 20000 }), { nil: null }), // 0 is refused (POINTS_PRICE_INVALID)
  ratio: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
});

export const arbRequest: fc.Arbitrary<PointsRequest> = fc.oneof(
  fc.constant({ kind: 'default' as const }),
  fc.constant({ kind: 'max' as const }),
  fc.constant({ kind: 'none' as const }),
  fc.integer({ min: 0, max: 2_000_000 }).map((points) => ({ kind: 'points' as const, points })),
);
