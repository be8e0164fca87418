// ledger verify, each order from itself and the journal (SPEC §4.3, §4.5, §7): its lines add up to its
// cash, points and points value, each line is paid as its pay mode says, and its refunds never return more
// than a line carried. The journal holds the points (orders-match-entries, refunds-match-entries prove the
// order's and the refunds' against it); cash is in no chained data, so the cash figures are proved only by
// agreeing with each other, with the amounts and with the points.
import { Decimal } from 'decimal.js';
import { allocateProportionally, pointsStep, pointsStepValue } from '../domain/money.js';
import { cumulative, spreadEarned } from '../domain/refund.js';
import type { Rules } from '../domain/rules.js';
import { SPREAD_WITHIN_LINE_CAPS, mixedCoverable, paysWithDiscount, pointsCapFor, splitLines, splitLinesPooled, stepsWithin } from '../domain/split.js';
import type { VerifyQueries } from '../store/verify.js';
import { SPREAD_MIGRATION, SPREAD_MIGRATION_VERSION } from '../store/migrations/index.js';
import { Problems } from './verifyBooks.js';

interface Order {
  seq: number;
  id: string;
  status: string;
  rulesVersion: number;
  subtotal: number;
  discount: number;
  total: number;
  pointsUsed: number;
  pointsValue: number;
  cashPaid: number;
  pointsDiscount: number;
  pointsEarned: number;
  lines: Line[];
}

/** A mixed line with the value its points paid; `odd` when it has value without points (or points without value). */
interface Mixed {
  l: Line;
  value: number;
  odd: boolean;
}

interface Line {
  lineNo: number;
  sku: string;
  pay: string;
  quantity: number;
  unitPrice: number;
  amount: number;
  discount: number;
  points: number;
  cash: number;
  earned: number;
  pct: string | null;
  pointsDiscount: number;
  /** A mixed line's ratio of its net that points could pay (migration 15; null on older lines). */
  ratio: string | null;
  /** The rule that spread its order's points over the mixed lines (migration 16; null on older lines). */
  spread: number | null;
}

interface Refund {
  id: number;
  orderId: string;
  points: number;
  cash: number;
  earned: number;
  lines: { lineNo: number; sku: string; quantity: number; points: number; cash: number; earned: number }[];
}

export interface OrderBooks {
  /** order-lines-add-up */
  orders: Problems;
  /** refund-lines-add-up */
  refunds: Problems;
  orderCount: number;
  refundCount: number;
}

/** What a rules version says of redeeming: the step (§4.2) and its value. */
interface Redeem {
  step: number;
  stepValue: number;
  rate: string;
  maxRatio: Decimal;
}

const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const same = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * `rulesOf(id)`: the parsed rules version (null when there is none). Streams orders with their lines and
 * refunds with theirs side by side, in order of seq. With `orderId`: that order and its refunds alone (a
 * refund proves its order first).
 */
export function checkOrders(q: VerifyQueries, rulesOf: (id: number) => Rules | null, digits: number, orderId?: string): OrderBooks {
  const orders = new Problems();
  const refunds = new Problems();
  const money = (m: number) => (m / 10 ** digits).toFixed(digits);
  const redeemCache = new Map<number, Redeem | null>();
  const redeemOf = (id: number): Redeem | null => {
    if (!redeemCache.has(id)) {
      const r = rulesOf(id);
      if (!r) redeemCache.set(id, null);
      else {
        const step = pointsStep(r.redeem.pointsPerUnit, digits);
        const stepValue = pointsStepValue(step, r.redeem.pointsPerUnit, digits);
        redeemCache.set(id, { step, stepValue, rate: r.redeem.pointsPerUnit.toString(), maxRatio: r.redeem.maxRatio });
      }
    }
    return redeemCache.get(id)!;
  };

  /** The first order (in seq order) whose mixed lines keep their ratio (migration 15). */
  let firstWithRatio: string | undefined;
  /** The first order (in seq order) whose mixed lines keep the rule that spread its points (migration 16). */
  let firstWithSpread: string | undefined;
  /** Orders after this seq were written from migration 16 on (the audit log's init or migrate record); null: not known. */
  const spreadSince = spreadRuleSince(q.schemaEvents());
  const sinceMigration16 = (o: Order): boolean => spreadSince !== null && o.seq > spreadSince;
  /** Why the order does not add up, or null. */
  const orderProblem = (o: Order): string | null => {
    if (o.lines.length === 0) return 'has no lines';
    for (const l of o.lines) {
      if (l.quantity <= 0 || l.amount !== l.quantity * l.unitPrice) return `line ${l.lineNo} (${l.sku}) has amount ${money(l.amount)} for ${l.quantity} × ${money(l.unitPrice)}`;
    }
    const amounts = o.lines.map((l) => l.amount);
    const subtotal = sum(amounts);
    if (o.subtotal !== subtotal) return `records a subtotal of ${money(o.subtotal)} but its lines' amounts add up to ${money(subtotal)}`;
    const discount = sum(o.lines.map((l) => l.discount));
    if (o.discount !== discount) return `records a discount of ${money(o.discount)} but its lines' discount shares add up to ${money(discount)}`;
    if (o.total !== subtotal - discount) return `records a total of ${money(o.total)} but its subtotal ${money(subtotal)} less its discount ${money(discount)} is ${money(subtotal - discount)}`;
    const points = sum(o.lines.map((l) => l.points));
    if (points !== o.pointsUsed) return `used ${o.pointsUsed} points but its lines carry ${points}`;
    const cash = sum(o.lines.map((l) => l.cash));
    if (cash !== o.cashPaid) return `was paid ${money(o.cashPaid)} in cash but its lines carry ${money(cash)}`;
    const pdisc = sum(o.lines.map((l) => l.pointsDiscount));
    if (pdisc !== o.pointsDiscount) return `records a points discount of ${money(o.pointsDiscount)} but its lines' add up to ${money(pdisc)}`;
    if (o.cashPaid + o.pointsValue + o.pointsDiscount !== o.total) {
      return `was paid ${money(o.cashPaid)} in cash, ${money(o.pointsValue)} in points value and ${money(o.pointsDiscount)} in points discount, which is not its total ${money(o.total)}`;
    }
    const r = redeemOf(o.rulesVersion);
    if (!r) return `names rules version ${o.rulesVersion}, which does not exist`;
    const earned = sum(o.lines.map((l) => l.earned));
    if (earned !== o.pointsEarned) return `earned ${o.pointsEarned} points but its lines carry ${earned}`;
    const pointsLines = o.lines.filter((l) => l.pay === 'points');
    const onPointsLines = sum(pointsLines.map((l) => l.amount - l.discount));
    const problem = splitProblem(o, r, onPointsLines, sum(pointsLines.map((l) => l.points)));
    if (problem === null) return null;
    // Orders recorded before the pay-mode rule keep their shares spread by line amount (docs/architecture.md,
    // "Order lines"): the points-only lines' own points are not on their lines, so of the points value only
    // this is known: the rest of the points paid the other lines in whole steps.
    // (never an order written since: its lines keep a ratio or spread rule, or an order before it does)
    const unmarked = o.lines.every((l) => l.ratio === null && l.spread === null) && (orderId !== undefined || firstWithRatio === undefined) &&
      // (an order without mixed lines keeps no rule to date it: as before migration 16, its by-amount shares stand)
      (!sinceMigration16(o) || o.lines.every((l) => l.pay !== 'mixed'));
    const oldSplit =
      unmarked &&
      same(allocateProportionally(o.pointsUsed, amounts), o.lines.map((l) => l.points)) &&
      same(allocateProportionally(o.cashPaid, amounts), o.lines.map((l) => l.cash)) &&
      same(allocateProportionally(o.pointsEarned, amounts), o.lines.map((l) => l.earned)) &&
      o.lines.every((l) => l.pointsDiscount === 0);
    const rest = o.pointsValue - onPointsLines;
    if (oldSplit && rest >= 0 && rest % r.stepValue === 0 && (rest / r.stepValue) * r.step <= o.pointsUsed) return null;
    return problem;
  };

  /** The points value (§4.2), each line's pay mode (§4.5) and the earned points' spread, for an order whose sums add up. */
  const splitProblem = (o: Order, r: Redeem, onPointsLines: number, pointsOnPointsLines: number): string | null => {
    const mixedPoints = o.pointsUsed - pointsOnPointsLines;
    if (mixedPoints < 0 || mixedPoints % r.step !== 0) {
      return `uses ${mixedPoints} points on lines paid partly in cash: not whole steps of ${r.step} (§4.2 at ${r.rate} points per unit)`;
    }
    const value = onPointsLines + (mixedPoints / r.step) * r.stepValue;
    if (o.pointsValue !== value) {
      return `records a points value of ${money(o.pointsValue)} but its ${o.pointsUsed} points are worth ${money(value)} (${money(onPointsLines)} of points-only lines, ${mixedPoints} points at ${r.rate} per unit on the others, rules version ${o.rulesVersion})`;
    }
    const split = payModeProblem(o, r, mixedPoints);
    if (split) return split;
    const earnedByCash = spreadEarned(o.pointsEarned, o.lines.map((l) => l.cash));
    if (!same(earnedByCash, o.lines.map((l) => l.earned))) {
      return `its ${o.pointsEarned} earned points are spread ${o.lines.map((l) => l.earned).join('/')} over its lines, not by their cash (${earnedByCash.join('/')})`;
    }
    return null;
  };

  /** §4.5: each line paid as its pay mode says, its cash + points value + points discount + discount share = its amount. */
  const payModeProblem = (o: Order, r: Redeem, mixedPoints: number): string | null => {
    const mixed: Mixed[] = [];
    for (const l of o.lines) {
      const net = l.amount - l.discount;
      const at = `line ${l.lineNo} (${l.sku}, ${l.pay})`;
      if (l.cash < 0 || l.points < 0 || l.pointsDiscount < 0 || l.discount < 0) return `${at} carries a negative share (cash ${money(l.cash)}, ${l.points} points, discount ${money(l.discount)})`;
      if (l.pay === 'cash') {
        if (l.points !== 0 || l.pointsDiscount !== 0 || l.cash !== net) return `${at} carries ${l.points} points and ${money(l.cash)} cash: a cash-only line carries its amount less its discount share (${money(net)}) in cash and no points`;
      } else if (l.pay === 'points') {
        const atRate = Math.ceil(l.amount / r.stepValue) * r.step;
        if (l.cash !== 0 || l.discount !== 0 || l.pointsDiscount !== 0) return `${at} carries ${money(l.cash)} cash and a discount of ${money(l.discount)}: a points-only line carries its points only`;
        // The item's points price at checkout is kept neither on the line nor in the journal: a whole number per unit is all that is checked.
        if (l.points <= 0 || (l.points !== atRate && l.points % l.quantity !== 0)) {
          return `${at} carries ${l.points} points for ${l.quantity} unit(s): neither its amount at the redeem rate (${atRate}) nor a points price per unit`;
        }
      } else if (l.pay === 'mixed') {
        const value = net - l.cash - l.pointsDiscount;
        if (value < 0) return `${at} carries ${money(l.cash)} cash and ${money(l.pointsDiscount)} points discount, more than its amount less its discount share (${money(net)})`;
        let want: number;
        try {
          want = paysWithDiscount(value, l.pct) - value;
        } catch {
          return `${at} has a points discount of ${l.pct}%, not a percent above 0 and at most 90`;
        }
        if (l.pointsDiscount !== want) return `${at} records a points discount of ${money(l.pointsDiscount)} but its points worth ${money(value)} at ${l.pct ?? 0}% give ${money(want)}`;
        // value without points (or points without value): only the pooled spread of builds before migration 16 wrote it
        const odd = (value === 0) !== (l.points === 0);
        if (odd && l.spread !== null) return valueWithoutPoints(at, l, value);
        mixed.push({ l, value, odd });
      } else return `${at} has an unknown pay mode`;
    }
    if (mixed.length === 0) return null;
    // Every order from migration 15 on keeps each mixed line's ratio: one without them after one with them
    // (orders come in seq order) had them taken away, which would leave only the weaker check below.
    const kept = mixed.filter((m) => m.l.ratio !== null);
    if (kept.length > 0 && kept.length < mixed.length) {
      const bare = mixed.find((m) => m.l.ratio === null)!;
      return `line ${bare.l.lineNo} (${bare.l.sku}, mixed) keeps no points ratio, while line ${kept[0].l.lineNo} of the same order keeps one (every mixed line of an order from migration 15 on does)`;
    }
    if (kept.length > 0) firstWithRatio ??= o.id;
    else if (firstWithRatio !== undefined && orderId === undefined) {
      return `its mixed lines keep no points ratio, yet order ${firstWithRatio} before it keeps one (every order from migration 15 on does): the ratios were taken away`;
    }
    // Every order from migration 16 on keeps the rule that spread its points: the same taken-away checks.
    const marked = mixed.filter((m) => m.l.spread !== null);
    if (marked.length > 0 && marked.length < mixed.length) {
      const bare = mixed.find((m) => m.l.spread === null)!;
      return `line ${bare.l.lineNo} (${bare.l.sku}, mixed) keeps no points spread rule, while line ${marked[0].l.lineNo} of the same order keeps one (every mixed line of an order from migration 16 on does)`;
    }
    const steps = mixed.every((m) => m.l.points % r.step === 0 && m.value === (m.l.points / r.step) * r.stepValue);
    const badLine = (): string => {
      const bad = mixed.find((m) => m.l.points % r.step !== 0 || m.value !== (m.l.points / r.step) * r.stepValue)!;
      return `line ${bad.l.lineNo} (${bad.l.sku}) carries ${bad.l.points} points but its amount ${money(bad.l.amount)} less its discount share ${money(bad.l.discount)}, cash ${money(bad.l.cash)} and points discount ${money(bad.l.pointsDiscount)} leaves ${money(bad.value)} paid by them (${r.rate} points per unit)`;
    };
    if (marked.length > 0) {
      const unknown = marked.find((m) => m.l.spread !== SPREAD_WITHIN_LINE_CAPS);
      if (unknown) return `line ${unknown.l.lineNo} (${unknown.l.sku}, mixed) keeps points spread rule ${unknown.l.spread}, which no build wrote`;
      if (kept.length < mixed.length) return `its mixed lines keep a points spread rule but no points ratio (every order from migration 16 on keeps both)`;
      firstWithSpread ??= o.id;
      // whole steps on every line, worth exactly their value, spread as checkout spreads them now
      return steps ? spreadProblem(o, r, mixed, 'lines') : badLine();
    }
    if (sinceMigration16(o)) {
      return `its mixed lines keep no points spread rule, yet it was written after migration 16 (the audit log records orders up to ${spreadSince} before it; every order since keeps one): the rule was taken away`;
    }
    if (firstWithSpread !== undefined && orderId === undefined) {
      return `its mixed lines keep no points spread rule, yet order ${firstWithSpread} before it keeps one (every order from migration 16 on does): the rule was taken away`;
    }
    // Written before migration 16. A line with value and no points: only the pooled spread wrote that.
    const odd = mixed.find((m) => m.odd);
    if (odd) return kept.length === mixed.length && spreadProblem(o, r, mixed, 'pooled') === null ? null : valueWithoutPoints(`line ${odd.l.lineNo} (${odd.l.sku}, mixed)`, odd.l, odd.value);
    // Each line alone: whole steps worth exactly their value, or (a step worth more than a line can take) the
    // value spread by caps and the points by value. Then, where the lines keep their ratio (migration 15), the
    // spread between them as those builds spread them (pooled); lines written before keep none and are checked alone.
    const spread = () => (kept.length === mixed.length ? spreadProblem(o, r, mixed, 'pooled') : null);
    if (steps) return spread();
    const values = mixed.map((m) => m.value);
    if (sum(values) === (mixedPoints / r.step) * r.stepValue && same(allocateProportionally(mixedPoints, values), mixed.map((m) => m.l.points))) return spread();
    return badLine();
  };

  const valueWithoutPoints = (at: string, l: Line, value: number): string => `${at} carries ${l.points} points but its amount less its discount share and cash leaves ${money(value)} for them`;

  /**
   * §4.5 with each mixed line's ratio kept (migration 15): the order's points on its mixed lines are spread
   * as checkout spreads them (splitLines), in proportion to what each line let points pay, so points moved
   * from one mixed line to another, with their cash moved back, no longer pass.
   */
  const spreadProblem = (o: Order, r: Redeem, mixed: Mixed[], rule: 'lines' | 'pooled' | 'either'): string | null => {
    const lines = [];
    for (const l of o.lines) {
      const net = l.amount - l.discount;
      let coverable = l.pay === 'points' ? net : 0;
      let pct: string | null = null;
      if (l.pay === 'mixed') {
        let ratio: Decimal;
        try {
          ratio = new Decimal(l.ratio!);
        } catch {
          return `line ${l.lineNo} (${l.sku}, mixed) keeps a points ratio of ${JSON.stringify(l.ratio)}, not a number`;
        }
        if (ratio.lt(0) || ratio.gt(r.maxRatio)) return `line ${l.lineNo} (${l.sku}, mixed) keeps a points ratio of ${l.ratio}, outside 0 to the rules' redeem.maxRatio ${r.maxRatio.toFixed()}`;
        coverable = mixedCoverable(net, ratio);
        pct = l.pct;
      }
      lines.push({ pay: l.pay, amount: l.amount, discount: l.discount, coverable, requiredPoints: l.pay === 'points' ? l.points : 0, pointsDiscountPct: pct, pointsCap: pct ? pointsCapFor(coverable, pct) : coverable });
    }
    const q = { lines: lines as Parameters<typeof splitLines>[0]['lines'], pointsUsed: o.pointsUsed, pointsValue: o.pointsValue, pointsStep: r.step, stepValue: r.stepValue };
    const mixedPoints = sum(mixed.map((m) => m.l.points));
    const differs = (spread: ReturnType<typeof splitLines>, l: Line): boolean => {
      const w = spread[l.lineNo - 1] ?? spread[o.lines.indexOf(l)];
      return w.points !== l.points || w.cash !== l.cash || w.pointsDiscount !== l.pointsDiscount;
    };
    // splitLines holds each line to whole steps within its cap: more steps than the caps hold, it has no spread
    const holds = sum(lines.map((x) => (x.pay === 'mixed' ? stepsWithin(x.pointsCap, r.stepValue) : 0)));
    const fits = mixedPoints / r.step <= holds;
    const fresh = rule !== 'pooled' && fits ? splitLines(q) : null;
    if (fresh && !mixed.some(({ l }) => differs(fresh, l))) return null;
    if (rule === 'lines' && !fits) return `uses ${mixedPoints} points on its mixed lines, more than the ${holds * r.step} that whole steps within each line's cap allow (§4.3)`;
    // Builds before migration 16 spread a step worth several minor units without a bound per line: their orders stand.
    const pooled = rule !== 'lines' ? splitLinesPooled(q) : null;
    if (pooled && !mixed.some(({ l }) => differs(pooled, l))) return null;
    const want = fresh ?? pooled!;
    for (const { l } of mixed) {
      const w = want[l.lineNo - 1] ?? want[o.lines.indexOf(l)];
      if (differs(want, l)) {
        return `line ${l.lineNo} (${l.sku}, mixed) carries ${l.points} points and ${money(l.cash)} cash, but the order's ${mixedPoints} points on its mixed lines, spread by what each let points pay (this one ${l.ratio} × its net), give it ${w.points} points and ${money(w.cash)} cash (§4.5)`;
      }
    }
    return null;
  };

  /** §4.5: a line's refunds never exceed its units, and after r of q units have returned floor(share × r / q) of its points, cash and earned. */
  const checkRefunds = (o: Order, rs: Refund[]): void => {
    const lines = new Map(o.lines.map((l) => [l.lineNo, l]));
    const done = new Map<number, { q: number; points: number; cash: number; earned: number }>();
    for (const f of rs) {
      const s = `refund ${f.id} of ${o.id}`;
      if (f.lines.length === 0) {
        refunds.add(s, 'has no lines');
        continue;
      }
      const t = { points: sum(f.lines.map((x) => x.points)), cash: sum(f.lines.map((x) => x.cash)), earned: sum(f.lines.map((x) => x.earned)) };
      if (t.points !== f.points || t.cash !== f.cash || t.earned !== f.earned) {
        refunds.add(s, `records ${f.points} points / ${money(f.cash)} cash / ${f.earned} earned but its lines add up to ${t.points} / ${money(t.cash)} / ${t.earned}`);
        continue;
      }
      for (const x of f.lines) {
        const l = lines.get(x.lineNo);
        const ls = `order ${o.id} line ${x.lineNo}`;
        if (!l) {
          refunds.add(ls, `is refunded by refund ${f.id} but the order has no such line`);
          continue;
        }
        if (x.sku !== l.sku) {
          refunds.add(ls, `is ${l.sku} but refund ${f.id} returns ${x.sku}`);
          continue;
        }
        const d = done.get(x.lineNo) ?? { q: 0, points: 0, cash: 0, earned: 0 };
        done.set(x.lineNo, d);
        d.q += x.quantity;
        d.points += x.points;
        d.cash += x.cash;
        d.earned += x.earned;
        if (x.quantity <= 0 || d.q > l.quantity) {
          refunds.add(ls, `has ${l.quantity} unit(s) but its refunds up to refund ${f.id} return ${d.q}`);
          continue;
        }
        const want = { points: cumulative(l.points, d.q, l.quantity), cash: cumulative(l.cash, d.q, l.quantity), earned: cumulative(l.earned, d.q, l.quantity) };
        if (d.points !== want.points || d.cash !== want.cash || d.earned !== want.earned) {
          refunds.add(
            ls,
            `carried ${l.points} points / ${money(l.cash)} cash / ${l.earned} earned for ${l.quantity} unit(s), so ${d.q} refunded return ${want.points} / ${money(want.cash)} / ${want.earned}, but its refunds up to refund ${f.id} returned ${d.points} / ${money(d.cash)} / ${d.earned}`,
          );
          // report each line once: later refunds of it repeat the same difference
          d.points = want.points;
          d.cash = want.cash;
          d.earned = want.earned;
        }
      }
    }
  };

  const orderIt = q.orderLinesRaw(orderId);
  const refundIt = q.refundLinesRaw(orderId);
  let orderCount = 0;
  let refundCount = 0;
  try {
    let nextOrder = orderIt.next();
    let nextRefund = refundIt.next();
    /** The refunds (with their lines) of the order with this seq, and reports those of orders that do not exist before it. */
    const refundsOf = (seq: number): Refund[] => {
      const out: Refund[] = [];
      while (!nextRefund.done && (nextRefund.value[0] as number) <= seq) {
        const v = nextRefund.value;
        const id = v[2] as number;
        let f = out.length && out[out.length - 1].id === id ? out[out.length - 1] : undefined;
        if (!f) {
          f = { id, orderId: v[1] as string, points: v[3] as number, cash: v[4] as number, earned: v[5] as number, lines: [] };
          refundCount++;
          if ((v[0] as number) < seq) refunds.add(`refund ${id}`, `names order ${f.orderId}, which does not exist`);
          else out.push(f);
        }
        if (v[6] !== null) f.lines.push({ lineNo: v[6] as number, sku: v[7] as string, quantity: v[8] as number, points: v[9] as number, cash: v[10] as number, earned: v[11] as number });
        nextRefund = refundIt.next();
      }
      return out;
    };
    while (!nextOrder.done) {
      const v = nextOrder.value;
      const o: Order = {
        seq: v[0] as number,
        id: v[1] as string,
        status: v[2] as string,
        rulesVersion: v[3] as number,
        subtotal: v[4] as number,
        discount: v[5] as number,
        total: v[6] as number,
        pointsUsed: v[7] as number,
        pointsValue: v[8] as number,
        cashPaid: v[9] as number,
        pointsDiscount: v[10] as number,
        pointsEarned: v[11] as number,
        lines: [],
      };
      while (!nextOrder.done && nextOrder.value[0] === o.seq) {
        const w = nextOrder.value;
        if (w[12] !== null) {
          o.lines.push({
            lineNo: w[12] as number,
            sku: w[13] as string,
            pay: w[14] as string,
            quantity: w[15] as number,
            unitPrice: w[16] as number,
            amount: w[17] as number,
            discount: w[18] as number,
            points: w[19] as number,
            cash: w[20] as number,
            earned: w[21] as number,
            pct: w[22] as string | null,
            pointsDiscount: w[23] as number,
            ratio: w[24] as string | null,
            spread: w[25] === null || w[25] === undefined ? null : Number(w[25]),
          });
        }
        nextOrder = orderIt.next();
      }
      orderCount++;
      const p = orderProblem(o);
      if (p) orders.add(`order ${o.id}`, p);
      const rs = refundsOf(o.seq);
      if (rs.length) checkRefunds(o, rs);
    }
    refundsOf(Number.MAX_SAFE_INTEGER);
  } finally {
    orderIt.return?.();
    refundIt.return?.();
  }
  return { orders, refunds, orderCount, refundCount };
}

/**
 * The seq after which every order was written from migration 16 on, from the audit log (oldest first): the
 * newest `ledger.init` made at schema 16 or later (every order: 0), or the `db.migrate` after it that applied
 * migration 16 (the orders it recorded before). Null when neither says (a ledger migrated before the record).
 */
export function spreadRuleSince(events: readonly [string, string][]): number | null {
  let since: number | null = null;
  for (const [action, text] of events) {
    let d: { schema?: unknown; applied?: unknown; ordersBefore?: unknown };
    try {
      d = JSON.parse(text) ?? {};
    } catch {
      continue;
    }
    if (action === 'ledger.init') since = typeof d.schema === 'number' && d.schema >= SPREAD_MIGRATION_VERSION ? 0 : null;
    else if (Array.isArray(d.applied) && d.applied.includes(SPREAD_MIGRATION) && typeof d.ordersBefore === 'number') since = d.ordersBefore;
  }
  return since;
}
