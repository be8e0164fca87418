// Recommendations (issue 19, `report recommend`): items ranked from purchase history and redemptions,
// each with the reason in words. Pure: the history is fed basket by basket (a purchase's or a checkout's
// lines), the candidates are given (the active catalog, or every item seen when evaluating).
//
// A member's score for an item adds five signals, each 0..1: what the member buys again (the share of
// their orders with it, weighed by how often the shop's members buy again at all), what is bought
// together with what they bought (item-to-item cosine over baskets, shrunk by the orders a pair rests
// on), what is popular in the categories they buy among members of their tier, what members of their
// tier redeem with points, and plain popularity (a small weight, to break ties).
//
// Those signals rank the member's own list; the shop's popularity is the prior it has to beat. Each
// ledger calibrates itself on its own history (the latest orders of up to RANKING.calibrationMembers
// members held out, each ranked from everything else): how many of the ten places the member's own list
// gets (0, 2, 4 … 10, the rest filled from the fallback list) and whether the fallback is the all-time
// favourites or what sells well lately (popularity decayed with a half-life of RANKING.halfLifeDays
// before the as-of time). A setting must hit clearly more held-out orders than the favourites alone (or,
// hitting as many, find clearly more of their items) to be chosen: where buying again and co-purchase
// carry no signal, the list is the shop's favourites.

export interface Candidate {
  sku: string;
  name: string;
  category: string | null;
  /**
   * The most points a checkout takes for one unit (a points-only item: its points price; a mixed item: the
   * points part its ratio allows, the rest in cash; null: it cannot be paid with points).
   */
  pointsPrice: number | null;
  /** The cash paid besides pointsPrice, as money text ("0.00" for a points-only item); null or absent: none known. */
  cashWithPoints?: string | null;
}

export interface Recommendation {
  sku: string;
  name: string;
  score: number;
  reason: string;
  pointsPrice: number | null;
  /** The cash checkout takes besides pointsPrice (a mixed item: points + cash); null: not for points. */
  cashWithPoints: string | null;
  /** Whether the member's available points cover pointsPrice (null: not for points, or no member); a frozen member: false. */
  affordable: boolean | null;
  /** Points the member must still earn to pay pointsPrice (0: they have them); null: not for points, no member, or the member is frozen. */
  pointsNeeded: number | null;
}

export const WEIGHTS = { again: 1, together: 0.35, category: 0.2, redeemed: 0.1, popular: 0.05 };
/**
 * `diversity`: how much an item is held back for being bought in the same baskets (cosine) as an item
 * already above it in the list, so the list covers the member's different kinds of purchase instead of
 * ten items of one set (one of them is enough to know whether the set is wanted). `categoryFallback`: an
 * item without a category counts as in the shop's one category, so the category weight goes to what is
 * popular among members like them. `priorOrders`: how much the shop's popularity weighs against what the
 * member's own orders say, counted in orders: a member with that many orders gets half of each; a
 * newcomer, mostly the shop's favourites; a regular, mostly their own history. `support`: shared orders
 * at which a co-purchase counts half (a pair seen together once is weak evidence, however rare the items).
 * Chosen on the validation splits of bench/recommend.js, which never see the hidden orders.
 */
export const RANKING = {
  diversity: 0.6,
  categoryFallback: true,
  priorOrders: 0,
  support: 4,
  /** The most members a ledger holds out to calibrate itself (those with the latest orders); fewer than minCalibration: no calibration. */
  calibrationMembers: 300,
  minCalibration: 30,
  /**
   * The most work calibration does (basket lines read for co-purchase, candidates scored) before it stops
   * holding out more orders: on a large ledger about the cost of 25 to 30 recommendations.
   */
  calibrationWork: 1_500_000,
  /** Half-life of "selling well lately", in days: an order this old counts half. */
  halfLifeDays: 120,
  /** Standard errors by which a setting must beat the favourites on the held-out orders to be chosen. */
  margin: 2,
};
/** How one ledger's list is made (PurchaseHistory.calibrate): the share of places for the member's own list, and the fallback. */
export interface Policy {
  personal: number;
  trending: boolean;
  /** Held-out orders hit by the chosen setting, by the all-time favourites alone, and of how many (0: not calibrated). */
  hits: number;
  popularHits: number;
  heldOut: number;
  /** Every setting tried, with the held-out orders it hit (empty: not calibrated). */
  tried: { personal: number; trending: boolean; hits: number }[];
}
/** Without enough history to calibrate on: the member's own list in every place (the ranking before calibration). */
export const UNCALIBRATED: Policy = { personal: 1, trending: false, hits: 0, popularHits: 0, heldOut: 0, tried: [] };
const PERSONAL_SHARES = [0, 0.2, 0.4, 0.6, 0.8, 1];
const DAY_MS = 86_400_000;
/** Baskets read per item when counting what is bought with it: enough for the signal, bounded cost. */
const BASKETS_PER_ITEM = 400;

/** The size of an imported line, as returns are netted: its units when the file gave a quantity (else null), and its money (minor units, > 0). */
export interface LineSize {
  units: number | null;
  amount: number;
}

/** One returned line of an import: a negative line (of a return, or of an order with lines of both signs), sized by its magnitude. */
export interface ReturnedLine extends LineSize {
  memberId: string;
  sku: string;
  /** When it was returned (ms since the epoch). */
  at: number;
}

/**
 * Imported returns net against what the member bought (README, report recommend): a returned line takes from
 * the member's latest purchase lines of the same SKU at or before it (a line of the same instant, such as the
 * other half of an order with lines of both signs, included), in units where both lines give a quantity and
 * in money otherwise, and a purchase line taken back in full was not bought. A line partly returned still was;
 * a return of more than was bought (before the ledger's history, say) takes what there is. The returns are
 * given first (they are few); purchase lines are offered as the history streams by, in time order, and only
 * those of a member and SKU that has a return need to be. `T`: whatever names a line to the caller.
 */
export class ReturnNetting<T> {
  private readonly returns = new Map<string, ReturnedLine[]>();
  private readonly members = new Set<string>();
  private readonly lines = new Map<string, { ref: T; at: number; size: LineSize }[]>();
  constructor(returns: Iterable<ReturnedLine>) {
    for (const r of returns) {
      this.members.add(r.memberId);
      const k = netKey(r.memberId, r.sku);
      let list = this.returns.get(k);
      if (!list) this.returns.set(k, (list = []));
      list.push(r);
    }
    for (const list of this.returns.values()) list.sort((a, b) => a.at - b.at);
  }
  /** Whether a purchase line of this member and SKU can be returned (so must be offered). */
  watches(memberId: string, sku: string): boolean {
    return this.members.has(memberId) && this.returns.has(netKey(memberId, sku));
  }
  /** A purchase line (offered in time order). */
  offer(ref: T, memberId: string, sku: string, at: number, size: LineSize): void {
    const k = netKey(memberId, sku);
    if (!this.returns.has(k)) return;
    let list = this.lines.get(k);
    if (!list) this.lines.set(k, (list = []));
    list.push({ ref, at, size });
  }
  /** The purchase lines offered that returns took back in full. */
  returnedInFull(): T[] {
    const EPS = 1e-9;
    const out: T[] = [];
    for (const [k, bought] of this.lines) {
      const stack: { ref: T; size: LineSize; kept: number }[] = [];
      let next = 0;
      for (const r of this.returns.get(k)!) {
        // the lines bought at or before the return, latest on top
        for (; next < bought.length && bought[next].at <= r.at; next++) stack.push({ ...bought[next], kept: 1 });
        let left = 1; // the share of the return not yet matched
        while (left > EPS && stack.length) {
          const top = stack[stack.length - 1];
          const byUnits = r.units !== null && top.size.units !== null && r.units > 0 && top.size.units > 0;
          const [ret, line] = byUnits ? [r.units!, top.size.units!] : [r.amount, top.size.amount];
          const take = Math.min(top.kept, (left * ret) / line);
          top.kept -= take;
          left -= (take * line) / ret;
          if (top.kept <= EPS) {
            stack.pop();
            out.push(top.ref);
          }
        }
      }
    }
    return out;
  }
}
const netKey = (memberId: string, sku: string): string => `${memberId}\u0000${sku}`;

export interface TierStats {
  /** Baskets with the item, among the tier's; the most of any item, and of any item per category. */
  count: Map<number, number>;
  max: number;
  /** How many items are in `max` baskets. */
  atMax: number;
  catMax: Map<string, number>;
  /** Redemptions of the item by the tier's members, scaled to 0..1. */
  redeemed: Map<number, number>;
  /** The same, counted (how many times the tier's members redeemed it). */
  redemptions: Map<number, number>;
  /** The tier's members who bought the item, and the most of any item. */
  buyers: Map<number, number>;
  maxBuyers: number;
}

/** Purchase history, items interned to numbers; baskets kept as arrays of distinct item numbers. */
export class PurchaseHistory {
  readonly skus: string[] = [];
  readonly categoryOf: (string | null)[] = [];
  private readonly ids = new Map<string, number>();
  readonly basketItems: number[][] = [];
  readonly basketMember: string[] = [];
  /** When each basket was bought (ms since the epoch; NaN: not known). Baskets are fed oldest first. */
  readonly basketAt: number[] = [];
  /** Baskets each item is in (most recent last). */
  readonly itemBaskets: number[][] = [];
  /** Baskets each member bought (in the order fed). */
  readonly memberBaskets = new Map<string, number[]>();
  /** Redemptions: items each member bought with points (times). */
  readonly redeemed = new Map<string, Map<number, number>>();
  /**
   * Names of items that may be no candidate (the whole catalog: out of stock and deactivated items too), so a
   * reason names an item the same way whether or not it can be recommended today.
   */
  readonly names = new Map<string, string>();

  item(sku: string, category: string | null = null): number {
    let id = this.ids.get(sku);
    if (id === undefined) {
      id = this.skus.length;
      this.ids.set(sku, id);
      this.skus.push(sku);
      this.categoryOf.push(category);
      this.itemBaskets.push([]);
    } else if (category !== null && this.categoryOf[id] === null) this.categoryOf[id] = category;
    return id;
  }
  idOf(sku: string): number | undefined {
    return this.ids.get(sku);
  }

  /** One basket: a member's purchase (or checkout) of these items, bought at `at` (ms since the epoch) when known. Its number (-1: no lines). */
  addBasket(memberId: string, lines: readonly { sku: string; category: string | null }[], at = Number.NaN): number {
    const items = [...new Set(lines.map((x) => this.item(x.sku, x.category)))];
    if (!items.length) return -1;
    const b = this.basketItems.length;
    this.basketItems.push(items);
    this.basketMember.push(memberId);
    this.basketAt.push(at);
    if (Number.isNaN(at)) this.untimed++;
    for (const i of items) this.itemBaskets[i].push(b);
    let mine = this.memberBaskets.get(memberId);
    if (!mine) this.memberBaskets.set(memberId, (mine = []));
    mine.push(b);
    return b;
  }

  /**
   * Takes lines back out of baskets already fed: [basket, sku] of lines returned in full (ReturnNetting). The
   * item leaves the basket (not bought, not bought with the others, not counted in popularity); a basket left
   * with nothing is no order of its member at all, as a checkout refunded in full is not. Call it before ranking.
   */
  dropLines(lines: readonly (readonly [basket: number, sku: string])[]): void {
    if (!lines.length) return;
    const emptied = new Set<number>();
    for (const [b, sku] of lines) {
      const i = this.ids.get(sku);
      const items = this.basketItems[b];
      if (i === undefined || !items?.includes(i)) continue;
      this.basketItems[b] = items.filter((x) => x !== i);
      this.itemBaskets[i] = this.itemBaskets[i].filter((x) => x !== b);
      if (!this.basketItems[b].length) emptied.add(b);
    }
    for (const b of emptied) {
      const member = this.basketMember[b];
      const left = (this.memberBaskets.get(member) ?? []).filter((x) => x !== b);
      if (left.length) this.memberBaskets.set(member, left);
      else this.memberBaskets.delete(member);
    }
    this.tierCache.clear();
    this.rebuyCache = null;
    this.calibration = new WeakMap();
  }

  addRedemption(memberId: string, sku: string, category: string | null, times = 1): void {
    const i = this.item(sku, category);
    let m = this.redeemed.get(memberId);
    if (!m) this.redeemed.set(memberId, (m = new Map()));
    m.set(i, (m.get(i) ?? 0) + times);
  }

  private tierCache = new Map<string | null, { baskets: number; stats: TierStats }>();
  /** What members of one tier buy and redeem (kept until more baskets come). */
  tierStats(tier: string | null, tierOf: (memberId: string) => string | null): TierStats {
    const hit = this.tierCache.get(tier);
    if (hit && hit.baskets === this.basketItems.length) return hit.stats;
    const count = new Map<number, number>();
    const catMax = new Map<string, number>();
    let max = 0;
    const buyers = new Map<number, number>();
    let maxBuyers = 0;
    for (const [member, baskets] of this.memberBaskets) {
      if (tierOf(member) !== tier) continue;
      const seen = new Set<number>();
      for (const b of baskets) {
        for (const i of this.basketItems[b]) {
          const n = (count.get(i) ?? 0) + 1;
          count.set(i, n);
          if (n > max) max = n;
          const c = this.categoryOf[i];
          if (c !== null && n > (catMax.get(c) ?? 0)) catMax.set(c, n);
          if (seen.has(i)) continue;
          seen.add(i);
          const k = (buyers.get(i) ?? 0) + 1;
          buyers.set(i, k);
          if (k > maxBuyers) maxBuyers = k;
        }
      }
    }
    const redemptions = new Map<number, number>();
    for (const [id, items] of this.redeemed) if (tierOf(id) === tier) for (const [i, n] of items) redemptions.set(i, (redemptions.get(i) ?? 0) + n);
    const redeemed = new Map(redemptions);
    normalise(redeemed);
    let atMax = 0;
    for (const n of count.values()) if (n === max) atMax++;
    const stats = { count, max, atMax, catMax, redeemed, redemptions, buyers, maxBuyers };
    this.tierCache.set(tier, { baskets: this.basketItems.length, stats });
    return stats;
  }

  private rebuyCache: { baskets: number; rate: number } | null = null;
  /**
   * How often members buy again: of the orders that are not a member's first, the share holding an item
   * that member bought in an earlier order (baskets are fed oldest first). 0 when nobody has two orders.
   */
  rebuyRate(): number {
    if (this.rebuyCache?.baskets === this.basketItems.length) return this.rebuyCache.rate;
    let later = 0;
    let again = 0;
    for (const baskets of this.memberBaskets.values()) {
      const seen = new Set<number>();
      for (const [k, b] of baskets.entries()) {
        const items = this.basketItems[b];
        if (k) {
          later++;
          if (items.some((i) => seen.has(i))) again++;
        }
        for (const i of items) seen.add(i);
      }
    }
    const rate = later ? again / later : 0;
    this.rebuyCache = { baskets: this.basketItems.length, rate };
    return rate;
  }

  /** Baskets containing the item. */
  count(i: number): number {
    return this.itemBaskets[i]?.length ?? 0;
  }

  private untimed = 0;
  /** Basket lines and candidates read so far by the ranking (what calibration's budget counts). */
  work = 0;
  /** Whether every basket's time is known (what "selling well lately" needs). */
  timed(): boolean {
    return this.untimed === 0;
  }

  /**
   * Selling well lately, as of `asOf` (ms): each item's baskets bought before it, each worth
   * 0.5^(age / halfLifeDays); and how many of them fell within the last halfLifeDays (for the reason).
   * One pass over every item's baskets, newest first.
   */
  trending(asOf: number): { decayed: Float64Array; recent: Uint32Array } {
    const decayed = new Float64Array(this.skus.length);
    const recent = new Uint32Array(this.skus.length);
    const half = RANKING.halfLifeDays * DAY_MS;
    for (let i = 0; i < this.skus.length; i++) {
      const bs = this.itemBaskets[i];
      let v = 0;
      for (let k = bs.length - 1; k >= 0; k--) {
        const age = asOf - this.basketAt[bs[k]];
        if (!(age > 0)) continue;
        v += 0.5 ** (age / half);
        if (age <= half) recent[i]++;
      }
      decayed[i] = v;
    }
    return { decayed, recent };
  }

  private calibration = new WeakMap<readonly Candidate[], { baskets: number; policy: Policy }>();
  /**
   * The ledger calibrates itself (see the head of this file): the members whose last order is the latest
   * (up to RANKING.calibrationMembers, and fewer on a large ledger: as many as RANKING.calibrationWork
   * allows, but at least RANKING.minCalibration) each have that order held out and are ranked from the rest of the
   * history (their own other orders, co-purchase and popularity without it; the shop's re-buy rate as it
   * is); "selling well lately" is taken as of each held-out order, from the orders before it. Each
   * setting (share of personal places × fallback) counts the held-out orders with an item among its top
   * 10. The all-time favourites stand unless a setting beats them by RANKING.margin standard errors of
   * the paired difference; of those that do, the most hits wins, a tie going to fewer personal places,
   * then to the all-time favourites. Where none does, a setting that hits as many and finds more of the
   * held-out orders' items by the same margin wins (the most items found).
   */
  calibrate(candidates: readonly Candidate[]): Policy {
    const hit = this.calibration.get(candidates);
    if (hit && hit.baskets === this.basketItems.length) return hit.policy;
    const lasts: number[] = [];
    for (const baskets of this.memberBaskets.values()) if (baskets.length >= 2) lasts.push(baskets[baskets.length - 1]);
    lasts.sort((a, b) => b - a);
    const held = lasts.slice(0, RANKING.calibrationMembers);
    let policy = UNCALIBRATED;
    if (held.length >= RANKING.minCalibration) {
      const withTrend = this.timed();
      // "selling well lately" as of each held-out order (latest first): every basket summed as
      // 2^((bought - first) / half-life) (the same order of items as decayed to any one time), less those
      // bought at or after the held-out order's time
      const trend = new Float64Array(withTrend ? this.skus.length : 0);
      const first = this.basketAt[0];
      const half = RANKING.halfLifeDays * DAY_MS;
      const weight = (b: number) => 2 ** ((this.basketAt[b] - first) / half);
      if (withTrend) for (let b = 0; b < this.basketItems.length; b++) for (const i of this.basketItems[b]) trend[i] += weight(b);
      let next = this.basketItems.length - 1;
      const top = 10;
      const settings = PERSONAL_SHARES.flatMap((personal) => (withTrend ? [false, true] : [false]).map((trending) => ({ personal, trending, hits: 0, gained: 0, lost: 0, more: 0, more2: 0 })));
      let popularHits = 0;
      const facts: MemberFacts = { memberId: '', tier: null, tierOf: () => null, available: null };
      const budget = this.work + RANKING.calibrationWork;
      let counted = 0;
      for (const b of held) {
        // bounded work: on a large ledger, fewer held-out orders (never fewer than minCalibration)
        if (counted >= RANKING.minCalibration && this.work > budget) break;
        counted++;
        this.work += candidates.length;
        const want = new Set(this.basketItems[b]);
        const hits = (list: readonly Scored[]) => list.slice(0, top).some((x) => x.i !== undefined && want.has(x.i));
        const found = (list: readonly Scored[]) => list.slice(0, top).reduce((n, x) => n + (x.i !== undefined && want.has(x.i) ? 1 : 0), 0);
        const member = { ...facts, memberId: this.basketMember[b] };
        const own = rankOwn(this, member, candidates, poolSize(top), b);
        const mine = own.orders ? diversify(this, own.scored, top, b) : [];
        const popular = fallbackList(this, candidates, own, null, 2 * top);
        if (withTrend) {
          for (; next >= 0 && this.basketAt[next] >= this.basketAt[b]; next--) {
            const w = weight(next);
            for (const i of this.basketItems[next]) trend[i] = Math.max(0, trend[i] - w);
          }
        }
        const lately = withTrend ? fallbackList(this, candidates, own, trend, 2 * top) : [];
        const base = hits(popular);
        const baseFound = found(popular);
        if (base) popularHits++;
        for (const s of settings) {
          const list = blend(mine, s.trending ? lately : popular, Math.round(top * s.personal), top);
          const hit = hits(list);
          if (hit) s.hits++;
          if (hit && !base) s.gained++;
          if (!hit && base) s.lost++;
          const d = found(list) - baseFound;
          s.more += d;
          s.more2 += d * d;
        }
      }
      // the favourites stand unless a setting beats them by two standard errors of the paired difference
      // (orders it hits and they miss, against the reverse): a margin of a few orders is noise
      const better = settings.filter((s) => s.gained - s.lost >= Math.max(1, RANKING.margin * Math.sqrt(s.gained + s.lost)));
      // where none does, one that hits as many and finds clearly more of the held-out orders' items (by two
      // standard errors of the paired difference): a shop whose members always buy a staple besides their
      // own item ties on hits, and the member's own list finds both (trial 43)
      const n = counted;
      const findsMore = (s: (typeof settings)[number]) => {
        if (s.gained < s.lost || s.more <= 0) return false;
        const mean = s.more / n;
        const sd = Math.sqrt(Math.max(0, s.more2 / n - mean * mean));
        return mean >= RANKING.margin * (sd / Math.sqrt(n)) && s.more >= 1;
      };
      const fallbackBetter = better.length ? [] : settings.filter(findsMore);
      const best = better.length ? better.reduce((a, s) => (s.hits > a.hits ? s : a), settings[0]) : fallbackBetter.reduce((a, s) => (a === settings[0] || s.more > a.more ? s : a), settings[0]);
      const tried = settings.map(({ personal, trending, hits }) => ({ personal, trending, hits }));
      policy = { personal: best.personal, trending: best.trending, hits: best.hits, popularHits, heldOut: counted, tried };
    }
    this.calibration.set(candidates, { baskets: this.basketItems.length, policy });
    return policy;
  }
}

/** Items bought with `i`: [item, cosine shared / sqrt(count(i) × count(j)), orders shared]. */
/** `exclude`: a basket left out as if it were not in the history (-1: none), for calibration. */
function pairsOf(h: PurchaseHistory, i: number, exclude = -1): [number, number, number][] {
  const shared = new Map<number, number>();
  const baskets = h.itemBaskets[i];
  for (let k = Math.max(0, baskets.length - BASKETS_PER_ITEM); k < baskets.length; k++) {
    if (baskets[k] === exclude) continue;
    const items = h.basketItems[baskets[k]];
    h.work += items.length;
    for (const j of items) if (j !== i) shared.set(j, (shared.get(j) ?? 0) + 1);
  }
  // counted over the last baskets only: scale the shares back to the item's count
  const scale = baskets.length > BASKETS_PER_ITEM ? baskets.length / BASKETS_PER_ITEM : 1;
  const out: [number, number, number][] = [];
  const count = exclude < 0 ? (x: number) => h.count(x) : (x: number) => h.count(x) - (h.basketItems[exclude].includes(x) ? 1 : 0);
  const ci = count(i);
  for (const [j, n] of shared) out.push([j, (n * scale) / Math.sqrt(ci * count(j)), n * scale]);
  return out;
}

/** Items bought with `i`, by baskets shared, and their cosine: shared / sqrt(count(i) × count(j)). */
function together(h: PurchaseHistory, i: number, exclude = -1): Map<number, number> {
  return new Map(pairsOf(h, i, exclude).map(([j, cos]) => [j, cos]));
}

const normalise = (m: Map<number, number>): Map<number, number> => {
  let max = 0;
  for (const v of m.values()) if (v > max) max = v;
  if (max > 0) for (const [k, v] of m) m.set(k, v / max);
  return m;
};

const times = (n: number): string => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);
/** Redemptions are counted in units (a line of 3 is 3), not in orders. */
const units = (n: number): string => `${n} ${n === 1 ? 'unit' : 'units'}`;
const round4 = (x: number): number => Math.round(x * 10_000) / 10_000;

function priced(c: Candidate, score: number, reason: string, available: number | null, frozen = false): Recommendation {
  const p = c.pointsPrice;
  return {
    sku: c.sku,
    name: c.name,
    score: round4(score),
    reason,
    pointsPrice: p,
    cashWithPoints: p === null ? null : (c.cashWithPoints ?? null),
    affordable: p === null || available === null ? null : !frozen && available >= p,
    // a frozen member pays nothing with points, however many they earn: no number is needed (null)
    pointsNeeded: p === null || available === null || frozen ? null : Math.max(0, p - available),
  };
}

export interface MemberFacts {
  memberId: string;
  /** The member's tier now (null: none), and every member's, for "members like them". */
  tier: string | null;
  tierOf: (memberId: string) => string | null;
  /** Points the member can spend now; negative for a member in debt (what they must earn before any point is usable). */
  available: number | null;
  /** A frozen member can pay nothing with points (checkout refuses): no item is affordable to them. */
  frozen?: boolean;
}

const tierWords = (tier: string | null): string => (tier ? `${tier} members` : 'members');

interface Scored {
  c: Candidate;
  i: number | undefined;
  score: number;
  reason: string;
}

/** What rankOwn gives: the member's own list (the best, unpicked, best first), and what the fallback lists need. */
interface OwnRanking {
  scored: Scored[];
  orders: number;
  /** Baskets with an item among members like them (less the excluded basket's), and the most of any item. */
  countOf: (i: number) => number;
  /** Members like them who bought the item (in those baskets). */
  buyersOf: (i: number) => number;
  /** The member's own baskets with the item (less the excluded one). */
  timesOf: (i: number) => number;
  /** How much members like them favour the item: its buyers among them, then its orders (below 1 more); and a bound of it. */
  favouriteOf: (i: number) => number;
  favouriteMax: number;
  tierMax: number;
  tier: string | null;
}

/** "popular with members (in 33 orders by 14 members)"; an item only one member bought is not called popular (trial 41). */
const popularWords = (inTier: number, tier: string | null, buyers: number): string =>
  inTier === 1
    ? `bought once by ${tier ? `a ${tier} member` : 'a member'}`
    : buyers <= 1
      ? `bought by one ${tier ? `${tier} ` : ''}member (in ${inTier} orders)`
      : `popular with ${tierWords(tier)} (in ${inTier} orders by ${buyers} members)`;

/** a before b in a list: higher score, then SKU. */
const before = (a: { score: number; c: Candidate }, b: { score: number; c: Candidate }): boolean => a.score > b.score || (a.score === b.score && a.c.sku < b.c.sku);

/** Keeps the best k of what is offered in `best` (best first): one comparison for most offers. */
function keepBest<T extends { score: number; c: Candidate }>(best: T[], x: T, k: number): void {
  if (best.length >= k) {
    if (!before(x, best[best.length - 1])) return;
    best.pop();
  }
  let j = best.length;
  best.push(x);
  while (j > 0 && before(x, best[j - 1])) {
    best[j] = best[j - 1];
    j--;
  }
  best[j] = x;
}

const idCache = new WeakMap<readonly Candidate[], { items: number; ids: (number | undefined)[] }>();
/** The history's item number of each candidate (undefined: never bought), kept until new items come. */
function idsOf(h: PurchaseHistory, candidates: readonly Candidate[]): (number | undefined)[] {
  const hit = idCache.get(candidates);
  if (hit && hit.items === h.skus.length) return hit.ids;
  const ids = candidates.map((c) => h.idOf(c.sku));
  idCache.set(candidates, { items: h.skus.length, ids });
  return ids;
}

/**
 * The member's own list: every candidate scored from what their orders say (bought again, bought
 * together, their categories, what their tier redeems), with the tier's popularity as a small weight (or,
 * by priorOrders, a larger one the fewer orders they have); the best `keep` kept, with their reasons.
 * `exclude`: a basket left out as if it were not in the history (-1: none), for calibration.
 */
function rankOwn(h: PurchaseHistory, m: MemberFacts, candidates: readonly Candidate[], keep: number, exclude = -1): OwnRanking {
  const own = new Map<number, number>(); // item → baskets of the member with it
  const catLines = new Map<string, number>();
  let lines = 0;
  const baskets = (h.memberBaskets.get(m.memberId) ?? []).filter((b) => b !== exclude);
  const orders = baskets.length;
  for (const b of baskets) {
    for (const i of h.basketItems[b]) {
      own.set(i, (own.get(i) ?? 0) + 1);
      const c = h.categoryOf[i];
      if (c !== null) catLines.set(c, (catLines.get(c) ?? 0) + 1);
      lines++;
    }
  }
  // bought together: the chance that at least one of the member's items brings the candidate along,
  // 1 - Π(1 - evidence), each pair's cosine shrunk by how many orders it rests on; and which item gave most
  const with_ = new Map<number, number>();
  const via = new Map<number, [number, number]>();
  for (const [i] of own) {
    for (const [j, cos, shared] of pairsOf(h, i, exclude)) {
      const e = Math.min(1, cos) * (shared / (shared + RANKING.support));
      with_.set(j, 1 - (1 - (with_.get(j) ?? 0)) * (1 - e));
      const best = via.get(j);
      if (!best || e > best[1]) via.set(j, [i, e]);
    }
  }
  // members like them: the same tier (everyone when tiers are not used)
  const stats = h.tierStats(m.tier, m.tierOf);
  const { catMax, redeemed: redeemedByTier, redemptions } = stats;
  let countOf = (i: number) => stats.count.get(i) ?? 0;
  let tierMax = stats.max;
  // members like them who bought the item (tierStats counts them; less the excluded basket's member below)
  let buyersOf = (i: number) => stats.buyers.get(i) ?? 0;
  if (exclude >= 0 && m.tierOf(h.basketMember[exclude]) === m.tier) {
    const out = new Set(h.basketItems[exclude]);
    countOf = (i: number) => (stats.count.get(i) ?? 0) - (out.has(i) ? 1 : 0);
    let atMax = 0;
    for (const i of out) if (stats.count.get(i) === stats.max) atMax++;
    if (atMax === stats.atMax) tierMax--;
    // the excluded basket's member is no buyer of the items only that basket of theirs holds
    const gone = new Set(out);
    for (const b of h.memberBaskets.get(h.basketMember[exclude]) ?? []) if (b !== exclude) for (const i of h.basketItems[b]) gone.delete(i);
    buyersOf = (i: number) => (stats.buyers.get(i) ?? 0) - (gone.has(i) ? 1 : 0);
  }
  // the favourites: bought by the most members like them, then in the most of their orders (one customer's
  // many orders do not make an item everyone's favourite, trial 43)
  const favouriteOf = (i: number): number => buyersOf(i) + countOf(i) / (stats.max + 1);
  let topCat = 0;
  for (const v of catLines.values()) topCat = Math.max(topCat, v);
  const prior = orders ? RANKING.priorOrders / (RANKING.priorOrders + orders) : 1;
  const mine = 1 - prior;
  const rebuy = h.rebuyRate();

  const ids = idsOf(h, candidates);
  /** The candidate's score, and with `words` its reason (the largest part's). */
  const scoreOf = (k: number, words: boolean): { score: number; reason: string } => {
    const c = candidates[k];
    const i = ids[k];
    const cat = c.category ?? (i !== undefined ? h.categoryOf[i] : null);
    const times_ = i !== undefined ? (own.get(i) ?? 0) : 0;
    // bought again: the share of the member's orders that had the item, weighed by how often the shop's
    // members buy again at all (a shop of one-off purchases gives it little weight)
    const again = orders ? (times_ / orders) * rebuy : 0;
    const tog = i !== undefined ? (with_.get(i) ?? 0) : 0;
    const red = i !== undefined ? (redeemedByTier.get(i) ?? 0) : 0;
    const inTier = i !== undefined ? countOf(i) : 0;
    const pop = tierMax ? inTier / tierMax : 0;
    // an item without a category is in the shop's one category: popular among members like them
    const fallback = cat === null && RANKING.categoryFallback;
    const inCat = fallback ? (lines ? 1 : 0) : cat !== null && lines && topCat ? (catLines.get(cat) ?? 0) / topCat : 0;
    const popInCat = fallback ? pop : i !== undefined && cat !== null ? inTier / (catMax.get(cat) || 1) : 0;
    const catScore = inCat * popInCat;
    const parts = [mine * WEIGHTS.again * again, mine * WEIGHTS.together * tog, mine * WEIGHTS.category * catScore, mine * WEIGHTS.redeemed * red, (prior + mine * WEIGHTS.popular) * pop];
    const score = parts[0] + parts[1] + parts[2] + parts[3] + parts[4];
    if (!words || score <= 0) return { score, reason: '' };
    const buyers = i !== undefined && inTier > 1 ? buyersOf(i) : inTier;
    const popular = popularWords(inTier, m.tier, buyers);
    const reasons = [
      `bought it ${times(times_)} before`,
      i !== undefined && via.has(i) ? `bought together with ${nameOf(h, candidates, via.get(i)![0])}` : '',
      // popular in a category only when more than one member like them bought it there (trial 41)
      cat !== null ? (buyers > 1 ? `popular in ${cat} among ${tierWords(m.tier)}` : inTier ? `in ${cat}, a category the member buys; ${popular}` : `in ${cat}, a category the member buys`) : popular,
      `redeemed with points by ${tierWords(m.tier)} (${units(i !== undefined ? (redemptions.get(i) ?? 0) : 0)})`,
      popular,
    ];
    let top = 0;
    for (let p = 1; p < parts.length; p++) if (parts[p] > parts[top]) top = p;
    // What the member bought before is said even when another part weighs more: it is the fact they know.
    // Popular only through the member's own orders is just that.
    if (top === 0 || times_ === 0) return { score, reason: reasons[top] };
    if ((top === 4 || reasons[top] === popular) && inTier <= times_) return { score, reason: reasons[0] };
    return { score, reason: `${reasons[top]}; ${reasons[0]}` };
  };
  const best: { c: Candidate; k: number; score: number }[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const { score } = scoreOf(k, false);
    if (score > 0) keepBest(best, { c: candidates[k], k, score }, keep);
  }
  const scored = best.map(({ c, k, score }) => ({ c, i: ids[k], score, reason: scoreOf(k, true).reason }));
  return { scored, orders, countOf, buyersOf, timesOf: (i) => own.get(i) ?? 0, favouriteOf, favouriteMax: stats.maxBuyers + 1, tierMax, tier: m.tier };
}

/**
 * The fallback list, the best `keep`, best first, scored 0..1: the favourites of members like them
 * (orders with the item among their tier's, as the most-popular baseline counts them), or, given `trend`
 * (decayed popularity per item, PurchaseHistory.trending), what sells well lately.
 */
function fallbackList(h: PurchaseHistory, candidates: readonly Candidate[], own: OwnRanking, trend: { decayed: Float64Array; recent: Uint32Array } | Float64Array | null, keep: number): Scored[] {
  const decayed = trend instanceof Float64Array ? trend : (trend?.decayed ?? null);
  const recent = trend instanceof Float64Array ? null : (trend?.recent ?? null);
  let max = 0;
  if (decayed) for (const v of decayed) max = Math.max(max, v);
  else max = own.tierMax ? own.favouriteMax : 0;
  if (!max) return [];
  const ids = idsOf(h, candidates);
  const best: { c: Candidate; i: number; score: number }[] = [];
  for (let k = 0; k < candidates.length; k++) {
    const i = ids[k];
    if (i === undefined) continue;
    const v = decayed ? decayed[i] : own.countOf(i) > 0 ? own.favouriteOf(i) : 0; // (a decayed sum left by subtraction may be a rounding crumb)
    if (v > max * 1e-9) keepBest(best, { c: candidates[k], i, score: v / max }, keep);
  }
  return best.map(({ c, i, score }) => ({ c, i, score, reason: fallbackReason(own, i, decayed ? (recent?.[i] ?? 0) : null, h.count(i)) }));
}

/**
 * Why a fallback item is listed, in true words: selling well lately only with orders in the last
 * half-life (an item ranked by its decayed popularity but not sold lately says so, trial 43), and the
 * member's own buying named as theirs (not "bought by one gold member" when that member is them).
 * `recent`: the item's orders in the last half-life, or null for the all-time favourites.
 */
function fallbackReason(own: OwnRanking, i: number, recent: number | null, all: number): string {
  const inTier = own.countOf(i);
  const mine = own.timesOf(i);
  const buyers = inTier > 1 ? own.buyersOf(i) : inTier;
  const yours = mine ? `bought it ${times(mine)} before` : '';
  // popular only through the member's own orders is just that
  const popular = mine && inTier <= mine ? '' : inTier ? popularWords(inTier, own.tier, buyers) : '';
  const lately = recent === null ? '' : recent ? `selling well lately (in ${recent} ${recent === 1 ? 'order' : 'orders'} over the last ${RANKING.halfLifeDays} days)` : `none sold in the last ${RANKING.halfLifeDays} days`;
  // (what sells lately is counted over every member: an item members like them never bought still had orders)
  const before = popular || yours || `in ${all} ${all === 1 ? 'order' : 'orders'} of other members`;
  const parts = recent ? [lately, yours] : [before, popular ? yours : '', lately];
  return parts.filter((x) => x).join('; ');
}

/**
 * The list shown: the first `places` of the member's own (picked) list, then the fallback list's best not
 * already in it, up to `top`. A fallback item's score is its fallback score capped by the last own item's,
 * so the list stays best first.
 */
function blend(mine: readonly Scored[], fallback: readonly Scored[], places: number, top: number): Scored[] {
  const out = mine.slice(0, Math.min(places, top));
  const cap = out.length ? out[out.length - 1].score : Infinity;
  const taken = new Set(out.map((x) => x.c.sku));
  for (const x of fallback) {
    if (out.length >= top) break;
    if (taken.has(x.c.sku)) continue;
    out.push({ ...x, score: Math.min(cap, x.score) });
  }
  return out;
}

/**
 * Ranks the candidates for one member, best first: their own list (rankOwn, picked for variety by
 * diversify) in as many places as the ledger's calibration gives it, the rest from the fallback list (the
 * favourites of members like them, or what sells well lately as of `asOf`, ms since the epoch). A member
 * with no orders gets the fallback list. Without `asOf` (or with baskets of unknown time) the fallback is
 * the favourites.
 */
export function recommendForMember(h: PurchaseHistory, m: MemberFacts, candidates: readonly Candidate[], top: number, asOf?: number): Recommendation[] {
  const policy = h.calibrate(candidates);
  const own = rankOwn(h, m, candidates, poolSize(top));
  const lately = policy.trending && asOf !== undefined && h.timed();
  const fallback = fallbackList(h, candidates, own, lately ? h.trending(asOf) : null, 2 * top);
  const places = own.orders ? Math.round(top * policy.personal) : 0;
  // uncalibrated (too little history): the member's own list alone, as it always was
  // (a member with no orders: the fallback list, calibrated or not)
  const list = own.orders && (policy === UNCALIBRATED || places >= top) ? diversify(h, own.scored, top) : blend(places ? diversify(h, own.scored, places) : [], fallback, places, top);
  return list.map((x) => priced(x.c, x.score, x.reason, m.available, m.frozen === true));
}

/**
 * The top items, picked one at a time: each pick is the best score once held back by
 * (1 - diversity × its highest cosine with an item already picked). The score given is the held-back
 * one, so the list stays best first; an item with no basket in common with those above keeps its own.
 */
/** How many of the best diversify picks from (so how many a ranking needs to keep). */
const poolSize = (top: number): number => Math.max(top * 5, 50);

export function diversify<T extends { i: number | undefined; score: number; c: Candidate }>(h: PurchaseHistory, ranked: readonly T[], top: number, exclude = -1): T[] {
  const lambda = RANKING.diversity;
  if (lambda <= 0 || ranked.length <= 1) return ranked.slice(0, top);
  const pool = ranked.slice(0, poolSize(top)).map((x) => ({ x, held: 0 }));
  const out: T[] = [];
  while (out.length < top && pool.length) {
    let best = 0;
    let bestScore = -Infinity;
    for (let k = 0; k < pool.length; k++) {
      const v = pool[k].x.score * (1 - lambda * pool[k].held);
      if (v > bestScore + 1e-12 || (Math.abs(v - bestScore) <= 1e-12 && pool[k].x.c.sku < pool[best].x.c.sku)) {
        best = k;
        bestScore = v;
      }
    }
    const [{ x }] = pool.splice(best, 1);
    out.push({ ...x, score: bestScore });
    if (x.i === undefined) continue;
    const cos = together(h, x.i, exclude);
    for (const p of pool) if (p.x.i !== undefined) p.held = Math.max(p.held, Math.min(1, cos.get(p.x.i) ?? 0));
  }
  return out;
}

const nameCache = new WeakMap<readonly Candidate[], Map<string, string>>();
function nameOf(h: PurchaseHistory, candidates: readonly Candidate[], i: number): string {
  let names = nameCache.get(candidates);
  if (!names) nameCache.set(candidates, (names = new Map(candidates.map((c) => [c.sku, c.name]))));
  const sku = h.skus[i];
  const name = names.get(sku) ?? h.names.get(sku);
  return name && name !== sku ? `${name} (${sku})` : sku;
}

/** "in 1 order", "in 17 orders, all by one member", "in 19 orders by 3 members". */
export function ordersOfMembers(orders: number, members: number): string {
  if (orders === 1) return 'in 1 order';
  return members === 1 ? `in ${orders} orders, all by one member` : `in ${orders} orders by ${members} members`;
}

/**
 * Items bought together with one item, best first: by cosine shrunk by how many members bought the two
 * together, m / (m + RANKING.support) (a pair one member bought in 15 orders, or two orders shared once,
 * is no shop-wide habit: trial 43), with how many baskets (and members) they shared.
 */
export function boughtTogether(h: PurchaseHistory, sku: string, candidates: readonly Candidate[], top: number): Recommendation[] {
  const i = h.idOf(sku);
  if (i === undefined) return [];
  const cos = together(h, i);
  const mine = new Set(h.itemBaskets[i]);
  /** The orders the two items shared, and how many members placed them (one member's repeated basket is not a shop-wide habit). */
  const shared = (j: number): { orders: number; members: number } => {
    let orders = 0;
    const who = new Set<string>();
    for (const b of h.itemBaskets[j]) {
      if (!mine.has(b)) continue;
      orders++;
      who.add(h.basketMember[b]);
    }
    return { orders, members: who.size };
  };
  const out: { c: Candidate; score: number; reason: string }[] = [];
  for (const c of candidates) {
    const j = h.idOf(c.sku);
    if (j === undefined || j === i || !cos.has(j)) continue;
    const n = shared(j);
    out.push({ c, score: Math.min(1, cos.get(j)!) * (n.members / (n.members + RANKING.support)), reason: `bought together with ${nameOf(h, candidates, i)} ${ordersOfMembers(n.orders, n.members)}` });
  }
  out.sort((a, b) => b.score - a.score || (a.c.sku < b.c.sku ? -1 : 1));
  return out.slice(0, top).map((x) => priced(x.c, x.score, x.reason, null));
}

/**
 * Why boughtTogether gave nothing for an item, in words: it was never bought, or only ever alone, or what
 * was bought with it is no candidate today (out of stock, deactivated, left out with --exclude).
 */
export function emptyTogetherNote(h: PurchaseHistory, sku: string): string {
  const i = h.idOf(sku);
  const n = i === undefined ? 0 : h.count(i);
  if (!n) return `${sku} was never bought, or every purchase of it was returned or refunded (no imported purchase line or paid checkout keeps it): nothing was bought with it`;
  if (!together(h, i!).size) return `${sku} was bought in ${n} ${n === 1 ? 'order' : 'orders'}, ${n === 1 ? 'alone' : 'each time alone'}: nothing was bought with it`;
  return `what was bought with ${sku} cannot be recommended now (out of stock, deactivated or left out)`;
}

export interface SegmentRecommendation extends Omit<Recommendation, 'affordable' | 'pointsNeeded'> {
  /** Members of the segment whose available points cover pointsPrice (frozen members never). */
  membersAffording: number | null;
}

/**
 * Redemption options to promote to a group of members: items they redeem, items they buy (whose
 * points price is within reach), and how many of them could pay it with points today. Only items
 * that can be paid with points are options.
 */
export function recommendForSegment(
  h: PurchaseHistory,
  segment: { label: string; members: ReadonlySet<string>; available: ReadonlyMap<string, number> },
  candidates: readonly Candidate[],
  top: number,
): SegmentRecommendation[] {
  const redeemed = new Map<number, number>();
  /** Members of the group who redeemed, and who bought, each item (the words say "by one member" or "by N"). */
  const redeemers = new Map<number, number>();
  const buyers = new Map<number, Set<string>>();
  for (const [id, items] of h.redeemed) {
    if (!segment.members.has(id)) continue;
    for (const [i, n] of items) {
      redeemed.set(i, (redeemed.get(i) ?? 0) + n);
      redeemers.set(i, (redeemers.get(i) ?? 0) + 1);
    }
  }
  const bought = new Map<number, number>();
  const catBought = new Map<string, number>();
  for (let b = 0; b < h.basketItems.length; b++) {
    const member = h.basketMember[b];
    if (!segment.members.has(member)) continue;
    for (const i of h.basketItems[b]) {
      bought.set(i, (bought.get(i) ?? 0) + 1);
      let who = buyers.get(i);
      if (!who) buyers.set(i, (who = new Set()));
      who.add(member);
      const c = h.categoryOf[i];
      if (c !== null) catBought.set(c, (catBought.get(c) ?? 0) + 1);
    }
  }
  const avail = [...segment.available.values()];
  const maxOf = (m: Map<unknown, number>) => Math.max(0, ...m.values());
  const rMax = maxOf(redeemed);
  const bMax = maxOf(bought);
  const cMax = maxOf(catBought);
  const out: { c: Candidate; score: number; reason: string; affording: number }[] = [];
  for (const c of candidates) {
    if (c.pointsPrice === null) continue;
    const i = h.idOf(c.sku);
    const cat = c.category ?? (i !== undefined ? h.categoryOf[i] : null);
    const r = i !== undefined && rMax ? (redeemed.get(i) ?? 0) / rMax : 0;
    const b = i !== undefined && bMax ? (bought.get(i) ?? 0) / bMax : 0;
    const k = cat !== null && cMax ? (catBought.get(cat) ?? 0) / cMax : 0;
    const affording = avail.filter((a) => a >= c.pointsPrice!).length;
    const reach = avail.length ? affording / avail.length : 0;
    // the category part is about the group's categories, not the item: it claims the item popular among
    // the group only when the group bought it, and otherwise says what is true of the item
    const n = i !== undefined ? (bought.get(i) ?? 0) : 0;
    const shop = i !== undefined ? h.count(i) : 0;
    // "popular" and "members" only when more than one member of the group did it (trial 42: a tier of one)
    const by = (k: number) => (k === 1 ? `one ${segment.label} member` : `${k} ${segment.label} members`);
    const nBuyers = i !== undefined ? (buyers.get(i)?.size ?? 0) : 0;
    const inCat = n
      ? nBuyers > 1
        ? `popular in ${cat} among ${segment.label} members (bought ${times(n)} by ${nBuyers} of them)`
        : `in ${cat}, which ${segment.label} members buy; bought ${times(n)} by one of them`
      : `${segment.label} members buy ${cat}; this one is ${shop ? `in ${shop} ${shop === 1 ? 'order' : 'orders'} of other members` : 'not bought yet'}`;
    const parts: [number, string][] = [
      [0.4 * r, `redeemed with points by ${by(i !== undefined ? (redeemers.get(i) ?? 0) : 0)} (${units(redeemed.get(i!) ?? 0)})`],
      [0.25 * b, `bought ${times(n)} by ${by(nBuyers)}`],
      [0.2 * k, inCat],
      [0.15 * reach, `${affording} of ${avail.length} ${segment.label} members can pay it with ${payWords(c)} today`],
    ];
    const score = parts.reduce((a, p) => a + p[0], 0);
    if (score <= 0) continue;
    out.push({ c, score, reason: parts.filter((p) => p[0] > 0).sort((x, y) => y[0] - x[0])[0][1], affording });
  }
  out.sort((a, b) => b.score - a.score || (a.c.sku < b.c.sku ? -1 : 1));
  return out.slice(0, top).map((x) => ({ sku: x.c.sku, name: x.c.name, score: round4(x.score), reason: x.reason, pointsPrice: x.c.pointsPrice, cashWithPoints: x.c.cashWithPoints ?? null, membersAffording: x.affording }));
}

/** How a candidate is paid with points, in words: "points", or "N points + C in cash" for a mixed item. */
function payWords(c: Candidate): string {
  const cash = c.cashWithPoints;
  return cash && !/^0*[.,]?0*$/.test(cash) ? `${c.pointsPrice} points + ${cash} in cash` : 'points';
}

/** The baseline of the evaluation: the most popular items (by baskets), best first. */
export function mostPopular(h: PurchaseHistory, top: number): string[] {
  return h.skus
    .map((sku, i) => ({ sku, n: h.count(i) }))
    .sort((a, b) => b.n - a.n || (a.sku < b.sku ? -1 : 1))
    .slice(0, top)
    .map((x) => x.sku);
}

/**
 * The hint of `report recommend --item SKU` for a SKU it does not know, on a ledger without a catalog
 * (where the items are the SKUs of imported purchases, which no list command shows): the SKU meant
 * when only its case differs, else the most bought ones (`popular`, best first), else plainly nothing.
 */
export function unknownItemHint(sku: string, popular: readonly string[], known: readonly string[]): string {
  const meant = known.find((k) => k.toLowerCase() === sku.toLowerCase());
  if (meant !== undefined) return `did you mean ${meant}?`;
  if (!popular.length) return 'this ledger has no catalog and no purchase line with a SKU: there is nothing to recommend from (import purchases with a sku column, or add items with pointsmall catalog add)';
  const more = known.length > popular.length ? `, … (${known.length} in all)` : '';
  return `this ledger has no catalog: its items are the SKUs of its imported purchases (bought, not only returned); the most bought: ${popular.join(', ')}${more}`;
}
