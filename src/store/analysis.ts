// The SQL behind the merchant's analysis (issue 19): purchase lines and checkout lines read for rule
// simulation and recommendations, streamed in time order or summed set-based. Lines of voided
// purchases, of purchases never accrued (rejected, still in review) and of unpaid checkouts are left out.
import { foldedName } from '../domain/text.js';
import type { Store } from './db.js';
import { EARNED_BETWEEN } from './orders.js';
import { extraChecks } from './verify.js';

/**
 * One line of an accrued purchase, as simulation reads it (the purchase's fields repeat on each of its
 * lines): ten columns, where a checkout's line needs seventeen (a million lines cost a second less to read).
 */
export type SimPurchaseRow = [
  id: number,
  memberId: string,
  at: string, // UTC ISO purchased_at
  source: string,
  rulesVersion: number | null,
  total: number, // the purchase's net amount
  points: number, // points the purchase earned (< 0: a return's take-back)
  sku: string | null,
  category: string | null,
  lineAmount: number, // the line's amount (a purchase imported before lines were kept: its amount, one line)
  voidedAt: string | null, // UTC ISO: when the purchase was voided (its earning counted for the orders after it until then)
];

/** One line of a paid checkout order, as simulation reads it (the order's fields repeat on each of its lines). */
export type SimLineRow = [
  type: 'o', // a checkout order
  key: string,
  memberId: string,
  at: string, // UTC ISO paid_at
  source: string, // 'checkout'
  rulesVersion: number | null,
  total: number, // the order's total
  points: number, // the order's points earned at capture
  refunded: number, // 1: refunded (in part) at any time; 0 otherwise
  cashPaid: number,
  lineNo: number | null,
  sku: string | null,
  category: string | null,
  lineAmount: number,
  // the line's units, its share of the cash and of the points earned (SPEC §4.5)
  lineQuantity: number,
  lineCash: number,
  lineEarned: number,
];

/** One line of a checkout refund, as simulation reads it (the refund's fields repeat on each of its lines). */
export type SimRefundRow = [
  refundId: number,
  orderId: string,
  memberId: string,
  at: string, // UTC ISO
  earned: number, // earned points the refund took back
  lineNo: number,
  units: number,
  lineEarned: number,
  before: number, // units of the line refunded by earlier refunds
  paidAt: string, // when the refunded order was paid
];

/** One line of purchase history for recommendations: who bought what, when (both imports and checkouts). */
export type BasketLineRow = [basket: string, memberId: string, at: string, sku: string, category: string | null, quantity: number];

/** A returned line of an import (a negative line, of a return or of an order with lines of both signs), sized by its magnitude. */
export type ReturnLineRow = [memberId: string, at: string, sku: string, quantity: number | null, amount: number];

export interface StoredLine {
  lineNo: number;
  sku: string | null;
  category: string | null;
  quantity: string | null;
  amount: number;
}

const NO_LIMIT = '9223372036854775807';
const PAID = `('paid', 'partially_refunded', 'refunded')`;

export class Analysis {
  private readonly s;
  constructor(store: Store) {
    const db = store.db;
    this.s = {
      pinned: db.prepare('SELECT id, tier FROM members WHERE tier IS NOT NULL').raw(),
      lines: db.prepare('SELECT line_no AS lineNo, sku, category, quantity, amount FROM purchase_lines WHERE purchase_id = ? ORDER BY line_no'),
      // Orders are sorted alone (a few small columns), then each one's lines are read by key: far less to
      // sort than every line. The LIMIT keeps SQLite from flattening the subquery into the join (which
      // drops its ORDER BY); the left table of a LEFT or CROSS JOIN is SQLite's outer loop, so the rows
      // come in the subquery's order. The outer ORDER BY says so for every backend (PostgreSQL joins in an
      // order of its own); SQLite then sorts only each order's few lines ("LAST TERM OF ORDER BY").
      simPurchases: db
        .prepare(
          `SELECT p.id, p.member_id, p.purchased_at, p.source, p.rules_version, p.amount, p.points, l.sku, l.category, COALESCE(l.amount, p.amount), p.voided_at
             FROM (SELECT id, member_id, purchased_at, source, rules_version, amount, points, voided_at FROM purchases
                    WHERE status = 'accrued' AND purchased_at >= ? AND purchased_at < ?
                    ORDER BY purchased_at, id LIMIT ${NO_LIMIT}) p
             LEFT JOIN purchase_lines l ON l.purchase_id = p.id
            ORDER BY p.purchased_at, p.id, l.line_no`,
        )
        .raw(),
      simCheckouts: db
        .prepare(
          // the order as captured: its refunds are read apart, each in the period it was made in
          `SELECT 'o', o.id, o.member_id, o.paid_at, 'checkout', o.rules_version, o.total, o.points_earned,
                  CASE WHEN o.status = 'paid' THEN 0 ELSE 1 END, o.cash_paid,
                  ol.line_no, ol.sku, ol.category, ol.amount, ol.quantity, ol.cash, ol.earned
             FROM (SELECT id, member_id, paid_at, rules_version, total, points_earned, status, cash_paid FROM orders
                    WHERE status IN ${PAID} AND paid_at >= @from AND paid_at < @to
                    ORDER BY paid_at, id LIMIT ${NO_LIMIT}) o
             CROSS JOIN order_lines ol ON ol.order_id = o.id
            ORDER BY o.paid_at, o.id, ol.line_no`,
        )
        .raw(),
      simRefunds: db
        .prepare(
          `SELECT r.id, r.order_id, o.member_id, r.at, r.earned, rl.line_no, rl.quantity, rl.earned,
                  COALESCE((SELECT SUM(x.quantity) FROM refunds y JOIN refund_lines x ON x.refund_id = y.id
                             WHERE y.order_id = r.order_id AND y.id < r.id AND x.line_no = rl.line_no), 0),
                  o.paid_at
             FROM (SELECT id, order_id, at, earned FROM refunds WHERE at >= @from AND at < @to ORDER BY at, id LIMIT ${NO_LIMIT}) r
             CROSS JOIN orders o ON o.id = r.order_id
             CROSS JOIN refund_lines rl ON rl.refund_id = r.id
            ORDER BY r.at, r.id, rl.line_no`,
        )
        .raw(),
      checkoutLines: db
        .prepare(
          `SELECT 'o', o.id, o.member_id, o.paid_at, 'checkout', o.rules_version, o.total, o.points_earned, 1, o.cash_paid,
                  ol.line_no, ol.sku, ol.category, ol.amount, ol.quantity, ol.cash, ol.earned
             FROM orders o JOIN order_lines ol ON ol.order_id = o.id WHERE o.id = ? ORDER BY ol.line_no`,
        )
        .raw(),
      lifetimeBefore: db
        .prepare(
          `SELECT coalesce(-sum(p.points), 0) FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.member_id = ? AND p.member_id = e.member_id AND p.account = 'issued' AND e.at < ?`,
        )
        .pluck(),
      earnedBetween: db.prepare(EARNED_BETWEEN).pluck(),
      // lifetime earned as members.lifetime_earned counts it: −Σ the member's issued postings (accruals,
      // returns, refunds, voids, activity awards)
      earnedBefore: db
        .prepare(
          `SELECT p.member_id, -SUM(p.points) FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.at < ? AND p.account = 'issued' AND p.member_id IS NOT NULL GROUP BY p.member_id`,
        )
        .raw(),
      // purchases before an instant voided after it, with what they earned (they stand in the facts until their void)
      voidedLater: db
        .prepare(
          `SELECT member_id, voided_at, points FROM purchases
            WHERE voided_at > ? AND purchased_at < ? AND status = 'accrued' AND member_id IS NOT NULL AND points <> 0`,
        )
        .raw(),
      simAwards: db
        .prepare(
          `SELECT p.member_id, e.at, -SUM(p.points) FROM entries e JOIN postings p ON p.entry_id = e.id
            WHERE e.kind = 'award' AND e.at >= ? AND e.at < ? AND p.account = 'issued' AND p.member_id IS NOT NULL
            GROUP BY e.id, p.member_id, e.at ORDER BY e.at, e.id`,
        )
        .raw(),
      basketLines: db
        .prepare(
          `SELECT 'p' || p.id, p.member_id, p.purchased_at AS at, l.sku, l.category, 1
             FROM purchases p JOIN purchase_lines l ON l.purchase_id = p.id
            WHERE p.status <> 'rejected' AND p.voided_at IS NULL AND p.kind = 'purchase' AND l.sku IS NOT NULL AND l.amount > 0
              AND p.purchased_at <= ?
           UNION ALL
           SELECT 'o' || o.id, o.member_id, o.paid_at AS at, ol.sku, ol.category, ol.quantity - ol.refunded_qty
             FROM orders o JOIN order_lines ol ON ol.order_id = o.id
            WHERE o.status IN ${PAID} AND ol.quantity > ol.refunded_qty AND o.paid_at <= ?
            ORDER BY 3, 1`,
        )
        .raw(),
      // the negative lines of imports (returns, and the returned side of orders with lines of both signs)
      returnLines: db
        .prepare(
          `SELECT p.member_id, p.purchased_at, l.sku, ABS(CAST(l.quantity AS REAL)), -l.amount
             FROM purchases p JOIN purchase_lines l ON l.purchase_id = p.id
            WHERE p.status <> 'rejected' AND p.voided_at IS NULL AND l.sku IS NOT NULL AND l.amount < 0 AND p.purchased_at <= ?
            ORDER BY p.purchased_at, p.id, l.line_no`,
        )
        .raw(),
      // a bought SKU's lines in one purchase (by its key: a few rows), for the few a return may take back
      lineSizes: db.prepare('SELECT CAST(quantity AS REAL), amount FROM purchase_lines WHERE purchase_id = ? AND sku = ? AND amount > 0').raw(),
      redemptions: db
        .prepare(
          `SELECT o.member_id, ol.sku, ol.category, SUM(ol.quantity - ol.refunded_qty)
             FROM orders o JOIN order_lines ol ON ol.order_id = o.id
            WHERE o.status IN ${PAID} AND ol.points > 0 AND ol.quantity > ol.refunded_qty
            GROUP BY o.member_id, ol.sku, ol.category`,
        )
        .raw(),
      memberTierFacts: db.prepare('SELECT id, tier, lifetime_earned FROM members').raw(),
      // the SKUs (categories) of the catalog named exactly (by its indexes), then those of the catalog and of
      // every line equal to one of the given keys once ASCII case and spaces are set aside, or with a character
      // outside ASCII, which the caller folds (full-width letters, other dashes): one scan of the lines
      catalogSkus: db.prepare('SELECT sku FROM catalog_items WHERE sku IN (SELECT value FROM json_each(?))').pluck(),
      catalogCategories: db.prepare('SELECT DISTINCT category FROM catalog_items WHERE category IN (SELECT value FROM json_each(?))').pluck(),
      // whether the ledger names any SKU, any category at all (the catalog, then the lines: the first found ends it)
      anySku: db.prepare('SELECT EXISTS (SELECT 1 FROM catalog_items) OR EXISTS (SELECT 1 FROM purchase_lines WHERE sku IS NOT NULL)').pluck(),
      anyCategory: db.prepare('SELECT EXISTS (SELECT 1 FROM catalog_items WHERE category IS NOT NULL) OR EXISTS (SELECT 1 FROM purchase_lines WHERE category IS NOT NULL)').pluck(),
      // the whole catalog's names (a small table), for what SQL's lower() does not fold (full-width letters, other dashes)
      catalogNames: db.prepare('SELECT sku, category FROM catalog_items').raw(),
      skusLike: db
        .prepare(
          `SELECT DISTINCT sku FROM (SELECT sku FROM catalog_items UNION ALL SELECT sku FROM purchase_lines UNION ALL SELECT sku FROM order_lines) n
            WHERE sku IS NOT NULL AND (lower(replace(sku, ' ', '')) IN (SELECT value FROM json_each(?)) OR octet_length(sku) > length(sku))`,
        )
        .pluck(),
      categoriesLike: db
        .prepare(
          `SELECT DISTINCT category FROM (SELECT category FROM catalog_items UNION ALL SELECT category FROM purchase_lines UNION ALL SELECT category FROM order_lines) n
            WHERE category IS NOT NULL AND (lower(replace(category, ' ', '')) IN (SELECT value FROM json_each(?)) OR octet_length(category) > length(category))`,
        )
        .pluck(),
    };
  }

  /** Items each member bought with points (units, refunds less), from checkouts that were paid. */
  redemptions(): [memberId: string, sku: string, category: string | null, units: number][] {
    return this.s.redemptions.all() as [string, string, string | null, number][];
  }
  /** Every member's pinned tier and lifetime earned points (their tier now, by the rules in force). */
  memberTierFacts(): [id: string, pinned: string | null, lifetimeEarned: number][] {
    return this.s.memberTierFacts.all() as [string, string | null, number][];
  }

  /**
   * Of the given SKUs and categories, the ones the ledger names (its catalog, imported and checkout lines),
   * and its names that differ from one of them only in ASCII case or spaces. Names the catalog has are found
   * by its indexes; the lines are scanned once for each kind with a name the catalog lacks.
   */
  namesLike(skus: readonly string[], categories: readonly string[]): { skus: Set<string>; categories: Set<string>; anySku: boolean; anyCategory: boolean; anyItem: boolean } {
    let catalog: [string, string | null][] | undefined;
    const find = (wanted: readonly string[], exact: { all(a: string): unknown[] }, like: { all(a: string): unknown[] }, column: 0 | 1) => {
      const found = new Set<string>();
      if (!wanted.length) return found;
      for (const v of exact.all(JSON.stringify(wanted)) as string[]) found.add(v);
      const rest = wanted.filter((v) => !found.has(v));
      if (!rest.length) return found;
      const keys = new Set(rest.map(foldedName));
      for (const v of like.all(JSON.stringify([...keys])) as string[]) if (keys.has(foldedName(v)) || rest.includes(v)) found.add(v);
      catalog ??= this.s.catalogNames.all() as [string, string | null][];
      for (const row of catalog) if (row[column] !== null && keys.has(foldedName(row[column]!))) found.add(row[column]!);
      return found;
    };
    const anyCategory = categories.length > 0 && this.s.anyCategory.get() === 1;
    return {
      skus: find(skus, this.s.catalogSkus, this.s.skusLike, 0),
      categories: find(categories, this.s.catalogCategories, this.s.categoriesLike, 1),
      anySku: skus.length > 0 && this.s.anySku.get() === 1,
      anyCategory,
      // (categories named, none anywhere: whether there are items at all, which then have none)
      anyItem: categories.length > 0 && !anyCategory && this.s.anySku.get() === 1,
    };
  }
  /** Members with a pinned tier, and that tier. */
  pinnedTiers(): Map<string, string> {
    return new Map(this.s.pinned.all() as [string, string][]);
  }
  /** A purchase's stored lines, in line order. */
  linesOf(purchaseId: number): StoredLine[] {
    return this.s.lines.all(purchaseId) as StoredLine[];
  }
  /** Every line of the accrued purchases in [fromIso, toIso), in time order, purchase by purchase. */
  simPurchaseLines(fromIso: string, toIso: string): IterableIterator<SimPurchaseRow> {
    return this.s.simPurchases.iterate(fromIso, toIso) as IterableIterator<SimPurchaseRow>;
  }
  /** The same for paid checkout orders (by the time they were paid). */
  simCheckoutLines(fromIso: string, toIso: string): IterableIterator<SimLineRow> {
    return this.s.simCheckouts.iterate({ from: fromIso, to: toIso }) as IterableIterator<SimLineRow>;
  }
  /** The lines of the checkout refunds made in [fromIso, toIso), in time order, refund by refund (SimRefundRow). */
  simRefundLines(fromIso: string, toIso: string): IterableIterator<SimRefundRow> {
    return this.s.simRefunds.iterate({ from: fromIso, to: toIso }) as IterableIterator<SimRefundRow>;
  }
  /** One checkout's lines (SimLineRow), as simCheckoutLines reads them: a refund's order paid before the period. */
  checkoutLines(orderId: string): SimLineRow[] {
    return this.s.checkoutLines.all(orderId) as SimLineRow[];
  }
  /** A member's lifetime earned points before an instant (−Σ of their issued postings, as members.lifetime_earned counts them). */
  lifetimeBefore(memberId: string, iso: string): number {
    return this.s.lifetimeBefore.get(memberId, iso) as number;
  }
  /** Points the member earned by accrual with `at` in [fromIso, toIso) (the daily cap's basis). */
  earnedBetween(memberId: string, fromIso: string, toIso: string): number {
    return this.s.earnedBetween.get(memberId, fromIso, toIso) as number;
  }
  /** Activity awards in [fromIso, toIso), in time order: they count in lifetime points (tiers), not in the daily cap. */
  simAwards(fromIso: string, toIso: string): IterableIterator<[memberId: string, at: string, points: number]> {
    return this.s.simAwards.iterate(fromIso, toIso) as IterableIterator<[string, string, number]>;
  }
  /** Each member's lifetime earned points before the instant (the tier basis of a simulation at its start). */
  earnedBefore(iso: string): Map<string, number> {
    return new Map(this.s.earnedBefore.all(iso) as [string, number][]);
  }
  /** Purchases dated before the instant and voided after it: [memberId, voidedAt (UTC ISO), points earned]. */
  voidedLater(iso: string): [memberId: string, voidedAt: string, points: number][] {
    return this.s.voidedLater.all(iso, iso) as [string, string, number][];
  }
  /** Every returned line of the imports up to the instant, in time order (ReturnLineRow). */
  returnLines(upToIso: string): ReturnLineRow[] {
    return this.s.returnLines.all(upToIso) as ReturnLineRow[];
  }
  /**
   * How much of a SKU a purchase bought (basket 'p' || id of basketLines): its lines' units added up (null when
   * a line has no quantity) and their money (minor units).
   */
  boughtSize(purchaseId: number, sku: string): { units: number | null; amount: number } {
    let units: number | null = 0;
    let amount = 0;
    for (const [q, a] of this.s.lineSizes.all(purchaseId, sku) as [number | null, number][]) {
      units = units === null || q === null ? null : units + q;
      amount += a;
    }
    return { units, amount };
  }
  /** Every bought line up to the instant (a checkout paid at it included), basket by basket in time order (BasketLineRow). */
  basketLines(upToIso: string): IterableIterator<BasketLineRow> {
    return this.s.basketLines.iterate(upToIso, upToIso) as IterableIterator<BasketLineRow>;
  }
}

export const analysis = (store: Store): Analysis => new Analysis(store);

// A purchase's lines add up to it: as many as its line_count, summing to its amount (purchases imported
// before lines were kept have none, and are not checked).
extraChecks.push({
  name: 'purchase-lines-sum-to-purchases',
  sql: `SELECT 'purchase ' || COALESCE(p.source || ':' || p.order_id, '#' || x.purchase_id) AS subject,
               CASE WHEN p.id IS NULL THEN x.n || ' lines name a purchase that does not exist'
                    ELSE x.n || ' lines summing to ' || x.s || ' but line_count ' || p.line_count || ' and amount ' || p.amount END AS detail
          FROM (SELECT purchase_id, count(*) AS n, sum(amount) AS s FROM purchase_lines GROUP BY purchase_id) x
          LEFT JOIN purchases p ON p.id = x.purchase_id
         WHERE p.id IS NULL OR x.n <> p.line_count OR x.s <> p.amount
         LIMIT 5`,
});
