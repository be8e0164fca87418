// `report recommend --member M | --item SKU | --segment tier=NAME`: items from the active catalog ranked
// from purchase lines (imports and checkouts) and redemptions (domain/recommend.ts). Reads only.
import { Decimal } from 'decimal.js';
import { NotFoundError, UsageError } from '../errors.js';
import { type Candidate, PurchaseHistory, type Recommendation, ReturnNetting, type SegmentRecommendation, boughtTogether, emptyTogetherNote, mostPopular, recommendForMember, recommendForSegment, unknownItemHint } from '../domain/recommend.js';
import { formatMoney } from '../domain/money.js';
import { type Rules, currentTierName } from '../domain/rules.js';
import { mostPointsFor } from '../domain/split.js';
import { analysis } from '../store/analysis.js';
import { catalog } from '../store/catalog.js';
import { members } from '../store/members.js';
import { type Ctx, type Ledger, rulesAt, withLedger, memberNotFound } from './ledger.js';
import { availableOf } from './points.js';

/** What every kind of recommendation says besides its list. */
interface RecommendationsBase {
  /** The ledger has no catalog: the items are those of its purchase history, which checkout cannot sell (no points price). */
  noCatalog: boolean;
  /** SKUs left out as not products (--exclude), as given; and those of them no catalog item or purchase line has. */
  excluded: string[];
  excludedNotSeen: string[];
  /** For an excludedNotSeen SKU that a seen one spells in other case ("post" for POST): the seen one. */
  excludedMeant: Record<string, string>;
}

export interface MemberRecommendations extends RecommendationsBase {
  memberId: string;
  tier: string | null;
  /** As `member show` gives it: negative for a member in debt (SPEC §4.6: no usable points, the debt repaid first). */
  availablePoints: number;
  /** Points the member owes (returns taken back beyond their points): later credits repay it before any can be spent. */
  debt: number;
  /** A frozen member pays nothing with points (checkout refuses them): no item is affordable, pointsNeeded is null. */
  frozen: boolean;
  recommendations: Recommendation[];
}

export interface ItemRecommendations extends RecommendationsBase {
  sku: string;
  name: string;
  /** Why the list is empty (never bought, bought only alone, its companions not recommendable); null when it is not. */
  note: string | null;
  recommendations: Recommendation[];
}

export interface SegmentRecommendations extends RecommendationsBase {
  segment: string;
  members: number;
  /** Why the list is empty (nobody in the tier, no item payable with points, none within their reach); null when it is not. */
  note: string | null;
  recommendations: SegmentRecommendation[];
}

/** `exclude`: SKUs that are not products (postage, fees, manual lines), each given once or as a comma-separated list. */
export type RecommendInput = { member?: string; item?: string; segment?: string; top?: number; exclude?: readonly string[] };

/**
 * What can be recommended: the active catalog, each item with what a checkout of it takes with the most
 * points (domain/split.ts, as checkout quote --max-points: a points-only item its points; a mixed item the
 * points its ratio allows plus the cash left; cash-only: none). A ledger with no catalog (`noCatalog`: one
 * that only imports purchases) gets the items of its purchase history instead, by SKU. An item out of
 * stock (none left beyond what open checkouts hold) is left out: checkout would refuse it.
 */
function candidatesOf(l: Ledger, rules: Rules, h: PurchaseHistory, exclude: ReadonlySet<string>, noCatalog: boolean): Candidate[] {
  if (noCatalog) return h.skus.map((sku, i) => ({ sku, name: sku, category: h.categoryOf[i], pointsPrice: null }));
  const items = l.store.get(catalog).list().filter((c) => !exclude.has(c.sku));
  return items.filter((c) => c.stock === null || c.stock - c.stock_held > 0).map((c) => {
    const offer = mostPointsFor(
      { sku: c.sku, name: c.name, category: c.category, kind: c.kind, pay: c.pay, quantity: 1, unitPrice: c.price, pointsPrice: c.points_price, maxPointsRatio: c.max_points_ratio === null ? null : new Decimal(c.max_points_ratio), pointsDiscount: c.points_discount },
      rules.redeem,
      l.digits,
    );
    return { sku: c.sku, name: c.name, category: c.category, pointsPrice: offer?.points ?? null, cashWithPoints: offer ? formatMoney(offer.cash, l.digits) : null };
  });
}

/**
 * The purchase history up to now: imported purchases and paid checkouts, basket by basket. A checkout's
 * refunded units are left out by the query; an import's returns are netted here (ReturnNetting): a purchase
 * line returned in full leaves its basket, and a basket returned whole is no order.
 *
 * `exclude`: SKUs that are not products (--exclude): their lines are left out of every basket, as if never
 * bought (so never a candidate, a reason or a count); `seen` collects those of them the history has.
 * `items`: the catalog, inactive items too (reasons name them).
 */
function historyOf(l: Ledger, exclude: ReadonlySet<string>, seen: Set<string>, items: readonly { sku: string; name: string }[]): PurchaseHistory {
  const a = l.store.get(analysis);
  const h = new PurchaseHistory();
  const returns = a.returnLines(l.nowIso).filter(([, , sku]) => {
    if (!exclude.has(sku)) return true;
    seen.add(sku);
    return false;
  });
  const netting = new ReturnNetting<[number, string]>(returns.map(([memberId, at, sku, units, amount]) => ({ memberId, sku, at: Date.parse(at), units, amount })));
  let key: string | null = null;
  let member = '';
  let at = Number.NaN;
  let lines: { sku: string; category: string | null }[] = [];
  // an imported basket's SKUs that a return may take back (their sizes are read once the stream is done)
  const watched = new Set<string>();
  const offers: [basket: number, purchaseId: number, memberId: string, sku: string, at: number][] = [];
  const flush = () => {
    const b = h.addBasket(member, lines, at);
    for (const sku of watched) offers.push([b, Number(key!.slice(1)), member, sku, at]);
    watched.clear();
  };
  for (const [basket, memberId, boughtAt, sku, category] of a.basketLines(l.nowIso)) {
    if (exclude.has(sku)) {
      seen.add(sku);
      continue;
    }
    if (basket !== key) {
      if (key !== null) flush();
      key = basket;
      member = memberId;
      at = Date.parse(boughtAt);
      lines = [];
    }
    lines.push({ sku, category });
    if (basket.startsWith('p') && netting.watches(memberId, sku)) watched.add(sku);
  }
  if (key !== null) flush();
  for (const [b, purchaseId, memberId, sku, boughtAt] of offers) netting.offer([b, sku], memberId, sku, boughtAt, a.boughtSize(purchaseId, sku));
  h.dropLines(netting.returnedInFull());
  for (const [memberId, sku, category, units] of a.redemptions()) if (!exclude.has(sku)) h.addRedemption(memberId, sku, category, units);
  // reasons name an item out of stock or deactivated as they name an active one
  for (const c of items) h.names.set(c.sku, c.name);
  return h;
}

function tiersNow(l: Ledger, rules: Rules): Map<string, string | null> {
  return new Map(l.store.get(analysis).memberTierFacts().map(([id, pinned, lifetime]) => [id, currentTierName(rules, pinned, lifetime)]));
}

/** Why a segment has no redemption option to promote, in words. */
function emptySegmentNote(tier: string, members: number, options: readonly { pointsPrice: number | null }[]): string {
  if (!options.some((c) => c.pointsPrice !== null)) {
    return 'no active catalog item can be paid with points (add or update one that points can pay: pointsmall catalog add --sku SKU … --pay points): nothing to promote';
  }
  if (!members) return `no member is in tier ${tier} today: nobody to promote to`;
  return `the ${tier} members redeemed and bought none of the items payable with points, and none is within their available points`;
}

/** One of --member, --item or --segment, exactly. */
function which(input: RecommendInput): 'member' | 'item' | 'segment' {
  const given = (['member', 'item', 'segment'] as const).filter((k) => input[k] !== undefined);
  if (given.length !== 1) throw new UsageError(given.length ? `--${given.join(' and --')} cannot be combined` : 'say whom or what to recommend for', 'pass one of --member ID, --item SKU or --segment tier=NAME');
  return given[0];
}

export async function recommend(ctx: Ctx, input: RecommendInput): Promise<MemberRecommendations | ItemRecommendations | SegmentRecommendations> {
  const kind = which(input);
  const top = input.top ?? 10;
  let segmentTier: string | undefined;
  if (kind === 'segment') {
    const m = /^tier=(.+)$/.exec(input.segment!.trim());
    if (!m) throw new UsageError(`--segment ${JSON.stringify(input.segment)} is not a segment`, 'name a tier: --segment tier=gold');
    segmentTier = m[1].trim();
  }
  const excluded = [...new Set((input.exclude ?? []).flatMap((x) => x.split(',')).map((x) => x.trim()).filter((x) => x !== ''))];
  const exclude = new Set(excluded);
  if (kind === 'item' && exclude.has(input.item!)) throw new UsageError(`--item ${input.item} is one of the SKUs --exclude leaves out`, 'drop it from --exclude, or name another item');
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const { rules } = rulesAt(l, l.nowIso);
      const allItems = l.store.get(catalog).list({ all: true }); // (inactive ones too)
      const seen = new Set<string>();
      const readHistory = () => historyOf(l, exclude, seen, allItems);
      /** The --exclude SKUs no catalog item (inactive ones too) or purchase line has: a typo, or a SKU of another shop. */
      const inCatalog = new Set(allItems.map((i) => i.sku));
      const notSeen = () => excluded.filter((sku) => !seen.has(sku) && !inCatalog.has(sku));
      /** The fields naming what --exclude left out, with the SKU meant where a not-seen one differs from a seen one only in case. */
      const leftOut = (h: PurchaseHistory) => {
        const unseen = notSeen();
        const known = unseen.length ? [...seen, ...h.skus, ...inCatalog] : [];
        const meant: Record<string, string> = {};
        for (const sku of unseen) {
          const m = known.find((k) => k.toLowerCase() === sku.toLowerCase());
          if (m !== undefined) meant[sku] = m;
        }
        return { excluded, excludedNotSeen: unseen, excludedMeant: meant };
      };
      const noCatalog = !allItems.length;
      const candidates = (h: PurchaseHistory) => candidatesOf(l, rules, h, exclude, noCatalog);
      if (kind === 'member') {
        const m = l.store.get(members).get(input.member!);
        if (!m) throw memberNotFound(l, input.member!);
        const tiers = tiersNow(l, rules);
        const tier = tiers.get(m.id) ?? null;
        // negative in debt: points needed then count the debt, which later credits repay first (SPEC §4.6)
        const available = availableOf(l, m);
        const h = readHistory();
        const frozen = m.status === 'frozen';
        // members like them: their tier's; a member with no tier (lifetime points below every tier's, as
        // returns can leave them) is compared with every member, never with the few others that have none
        const tierOf = tier === null ? () => null : (id: string) => tiers.get(id) ?? null;
        const recs = recommendForMember(h, { memberId: m.id, tier, tierOf, available, frozen }, candidates(h), top, Date.parse(l.nowIso));
        return { memberId: m.id, tier, availablePoints: available, debt: m.debt, frozen, noCatalog, ...leftOut(h), recommendations: recs };
      }
      if (kind === 'item') {
        const sku = input.item!;
        const h = readHistory();
        const item = l.store.get(catalog).get(sku);
        if (!item && h.idOf(sku) === undefined) {
          const meant = allItems.find((c) => c.sku.toLowerCase() === sku.toLowerCase())?.sku ?? h.skus.find((x) => x.toLowerCase() === sku.toLowerCase());
          const hint = meant !== undefined ? `did you mean ${meant}? SKUs are exact: pointsmall report recommend --item ${/[^\w.-]/.test(meant) ? JSON.stringify(meant) : meant}` : 'list items with: pointsmall catalog list --all';
          throw new NotFoundError('item', sku, allItems.length ? hint : unknownItemHint(sku, mostPopular(h, 8), h.skus));
        }
        const recs = boughtTogether(h, sku, candidates(h), top);
        return { sku, name: item?.name ?? sku, note: recs.length ? null : emptyTogetherNote(h, sku), noCatalog, ...leftOut(h), recommendations: recs };
      }
      const names = rules.tiers.map((t) => t.name);
      const pinnedOnly = [...tiersNow(l, rules).values()].includes(segmentTier!);
      if (!names.includes(segmentTier!) && !pinnedOnly) {
        throw new UsageError(`no tier ${JSON.stringify(segmentTier)} in the rules in force`, names.length ? `tiers: ${names.join(', ')}` : 'the rules in force have no tiers');
      }
      const tiers = tiersNow(l, rules);
      const group = new Set([...tiers].filter(([, t]) => t === segmentTier).map(([id]) => id));
      const repo = l.store.get(members);
      const available = new Map<string, number>();
      for (const id of group) {
        const m = repo.get(id);
        // a frozen member can pay nothing with points today (checkout refuses them)
        if (m) available.set(id, m.status === 'frozen' ? 0 : Math.max(0, availableOf(l, m)));
      }
      const h = readHistory();
      const options = candidates(h);
      const recs = recommendForSegment(h, { label: segmentTier!, members: group, available }, options, top);
      return {
        segment: `tier=${segmentTier}`,
        members: group.size,
        note: recs.length ? null : emptySegmentNote(segmentTier!, group.size, options),
        noCatalog,
        ...leftOut(h),
        recommendations: recs,
      };
    }),
  );
}
