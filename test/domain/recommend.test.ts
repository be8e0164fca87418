// Ranking of `report recommend` (domain/recommend.ts): co-purchase, buying again, categories and
// redemptions of members like them, each with its reason, and the points check against what the member has.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Candidate, PurchaseHistory, RANKING, boughtTogether, mostPopular, recommendForMember, recommendForSegment } from '../../src/domain/recommend.js';

const item = (sku: string, category: string | null, pointsPrice: number | null = null, name = sku): Candidate => ({ sku, name, category, pointsPrice });
const CATALOG = [
  item('TEA', 'tea', 1000, 'Green tea'),
  item('CUP', 'home', 500, 'Tea cup'),
  item('POT', 'home', 3000, 'Tea pot'),
  item('OOLONG', 'tea', 1200),
  item('CABLE', 'electronics', null),
  item('BAG', 'gifts', 300),
];

function shop(): PurchaseHistory {
  const h = new PurchaseHistory();
  const buy = (m: string, ...skus: string[]) => h.addBasket(m, skus.map((s) => ({ sku: s, category: CATALOG.find((c) => c.sku === s)?.category ?? null })));
  // tea and cups go together; cables are popular on their own
  for (const m of ['A', 'B', 'C', 'D']) buy(m, 'TEA', 'CUP');
  for (const m of ['E', 'F', 'G', 'H', 'I']) buy(m, 'CABLE');
  buy('E', 'CABLE');
  buy('B', 'OOLONG');
  buy('C', 'OOLONG', 'POT');
  buy('X', 'TEA');
  return h;
}
const tiers: Record<string, string> = { A: 'gold', B: 'gold', C: 'gold', X: 'gold' };
const facts = (memberId: string, available: number | null = 0) => ({ memberId, tier: tiers[memberId] ?? null, tierOf: (id: string) => tiers[id] ?? null, available });

describe('recommendForMember', () => {
  it('puts what is bought together with the member\'s items first, saying with what, ahead of what is merely popular', () => {
    const recs = recommendForMember(shop(), facts('X', 800), CATALOG, 3);
    // X bought tea once: tea again, then the cup bought with it, before the more popular cable
    expect(recs.map((r) => r.sku)).toEqual(['TEA', 'CUP', 'OOLONG']);
    expect(recs[1]).toMatchObject({ reason: 'bought together with Green tea (TEA)' });
    expect(recs[2]).toMatchObject({ reason: 'popular in tea among gold members' });
    for (let i = 1; i < recs.length; i++) expect(recs[i - 1].score).toBeGreaterThanOrEqual(recs[i].score);
  });

  it('says whether the member\'s available points cover each item, or how many are still needed', () => {
    const recs = recommendForMember(shop(), facts('X', 800), CATALOG, 10);
    expect(recs.find((r) => r.sku === 'CUP')).toMatchObject({ pointsPrice: 500, affordable: true, pointsNeeded: 0 });
    expect(recs.find((r) => r.sku === 'TEA')).toMatchObject({ pointsPrice: 1000, affordable: false, pointsNeeded: 200, reason: 'bought it once before' });
  });

  it('recommends from the member\'s categories among members of their tier, and what those members redeem', () => {
    const h = shop();
    h.addRedemption('A', 'BAG', 'gifts', 3);
    const recs = recommendForMember(h, facts('B', 5000), CATALOG, 10);
    const pot = recs.find((r) => r.sku === 'POT');
    expect(pot).toBeDefined();
    expect(recs.find((r) => r.sku === 'BAG')).toMatchObject({ reason: 'often redeemed with points by gold members', affordable: true });
  });

  it('leaves out items with nothing to go on, and cash-only items carry no points check', () => {
    const h = shop();
    const recs = recommendForMember(h, facts('E', 100), CATALOG, 10);
    expect(recs[0]).toMatchObject({ sku: 'CABLE', pointsPrice: null, affordable: null, pointsNeeded: null });
    expect(recs.map((r) => r.sku)).not.toContain('BAG'); // nobody bought or redeemed it
    expect(recommendForMember(h, facts('NOBODY'), CATALOG, 10).every((r) => r.score > 0)).toBe(true);
  });
});

describe('recommendForMember on a shop like a wholesale export (no categories, sets bought whole)', () => {
  // M buys a 12-piece set three times and a pair of hand warmers twice; others buy the set, the pair
  // and, most of all, jam jars (JAM), which M never bought
  const SET = Array.from({ length: 12 }, (_, k) => `SET-${String(k).padStart(2, '0')}`);
  const bare = (...skus: string[]) => skus.map((sku) => ({ sku, category: null }));
  function wholesale(): PurchaseHistory {
    const h = new PurchaseHistory();
    for (let k = 0; k < 3; k++) h.addBasket('M', bare(...SET));
    for (let k = 0; k < 2; k++) h.addBasket('M', bare('WARMER-RED', 'WARMER-JACK'));
    h.addBasket('N', bare(...SET.slice(0, 6)));
    for (const o of ['P', 'Q', 'R']) h.addBasket(o, bare('WARMER-RED', 'WARMER-JACK', 'JAM'));
    for (const o of ['S', 'T', 'U', 'V']) h.addBasket(o, bare('JAM'));
    return h;
  }
  const seen = (h: PurchaseHistory) => h.skus.map((sku) => item(sku, null));
  const forM = (h: PurchaseHistory, top = 10) => recommendForMember(h, { memberId: 'M', tier: null, tierOf: () => null, available: null }, seen(h), top);

  it('covers each kind of thing the member buys instead of ten pieces of one set, best first', () => {
    const recs = forM(wholesale());
    expect(recs).toHaveLength(10);
    // the pair, bought twice, comes second although ten pieces of the set were bought more often; one
    // of the pair is enough, the other is held back like the set's other pieces
    expect(recs[0].sku).toMatch(/^SET-/);
    expect(recs[1]).toMatchObject({ sku: 'WARMER-JACK', reason: 'bought it twice before' });
    expect(recs.filter((r) => r.sku.startsWith('WARMER-'))).toHaveLength(1);
    for (let i = 1; i < recs.length; i++) expect(recs[i - 1].score).toBeGreaterThanOrEqual(recs[i].score);
  });

  it('without diversity the set fills the list (the setting is what makes the difference)', () => {
    const was = RANKING.diversity;
    RANKING.diversity = 0;
    try {
      expect(forM(wholesale()).every((r) => r.sku.startsWith('SET-'))).toBe(true);
    } finally {
      RANKING.diversity = was;
    }
  });

  it('with no categories, what is popular among members is the fallback, and says so', () => {
    const h = wholesale();
    // M never bought jam jars; they are bought with the hand warmers (3 orders), but above all by many members
    expect(forM(h, 40).find((r) => r.sku === 'JAM')).toMatchObject({ reason: 'popular with members' });
    // a newcomer with one piece of the set gets the set's other pieces and the shop's favourites
    h.addBasket('NEW', bare('SET-00'));
    const recs = recommendForMember(h, { memberId: 'NEW', tier: null, tierOf: () => null, available: null }, seen(h), 40);
    expect(recs.find((r) => r.sku === 'JAM')).toMatchObject({ reason: 'popular with members' });
  });

  it('any history: at most top items, each once, scores positive and best first', () => {
    const sku = fc.constantFrom('A', 'B', 'C', 'D', 'E', 'F', 'G', 'H');
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('m1', 'm2', 'm3'), fc.array(sku, { minLength: 1, maxLength: 5 })), { maxLength: 25 }), fc.integer({ min: 1, max: 8 }), (baskets, top) => {
        const h = new PurchaseHistory();
        for (const [m, skus] of baskets) h.addBasket(m, bare(...skus));
        const recs = recommendForMember(h, { memberId: 'm1', tier: null, tierOf: () => null, available: null }, seen(h), top);
        expect(recs.length).toBeLessThanOrEqual(top);
        expect(new Set(recs.map((r) => r.sku)).size).toBe(recs.length);
        for (let i = 0; i < recs.length; i++) {
          expect(recs[i].score).toBeGreaterThan(0);
          if (i) expect(recs[i - 1].score).toBeGreaterThanOrEqual(recs[i].score);
        }
      }),
    );
  });
});

describe('boughtTogether and recommendForSegment', () => {
  it('ranks items bought with one item by cosine and counts the orders they shared', () => {
    const recs = boughtTogether(shop(), 'TEA', CATALOG, 5);
    expect(recs.map((r) => r.sku)).toEqual(['CUP']);
    expect(recs[0].reason).toBe('bought together with Green tea (TEA) in 4 orders');
    expect(boughtTogether(shop(), 'NONE', CATALOG, 5)).toEqual([]);
  });

  it('promotes to a group what it redeems and buys, only items payable with points, with how many can pay', () => {
    const h = shop();
    h.addRedemption('A', 'BAG', 'gifts', 2);
    const recs = recommendForSegment(h, { label: 'gold', members: new Set(['A', 'B', 'C', 'X']), available: new Map([['A', 400], ['B', 1500], ['C', 0], ['X', 3000]]) }, CATALOG, 10);
    expect(recs.slice(0, 2).map((r) => r.sku)).toEqual(['TEA', 'BAG']);
    expect(recs[1]).toMatchObject({ reason: 'redeemed twice by gold members', membersAffording: 3 });
    expect(recs.map((r) => r.sku)).not.toContain('CABLE');
    expect(recs.find((r) => r.sku === 'TEA')).toMatchObject({ membersAffording: 2 });
  });

  it('the baseline is the items in the most baskets', () => {
    expect(mostPopular(shop(), 2)).toEqual(['CABLE', 'TEA']);
  });
});
