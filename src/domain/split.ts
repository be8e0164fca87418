// §4.3 splitting a checkout into a points part and a cash part (and §4.2 whole-minor-unit points). Pure:
// the service passes the cart, the member's available points and the redeem rules; nothing here reads a clock.
import { Decimal } from 'decimal.js';
import { type Minor, type Points, allocateCapped, allocateProportionally, pointsStep, pointsStepValue } from './money.js';

export type PayMode = 'mixed' | 'cash' | 'points';

export interface CartLine {
  sku: string;
  name: string;
  category: string | null;
  kind: 'goods' | 'coupon';
  pay: PayMode;
  quantity: number; // > 0
  unitPrice: Minor;
  /** The all-points price per unit (a discount for paying in points); null = price at the redeem rate. */
  pointsPrice: Points | null;
  /** The item's own cap on the points share of a mixed line; the smaller of it and the rules' maxRatio applies. */
  maxPointsRatio: Decimal | null;
  /** Issue 18: percent (0 < p ≤ 90, at most 2 decimals) by which points pay more on this mixed line; absent = none. */
  pointsDiscount?: string | null;
}

export type CouponDiscount = { value: Minor } | { percent: Decimal };

export type PointsRequest =
  /** No flag: only what points-only lines need; mixed lines are paid in cash. */
  | { kind: 'default' }
  | { kind: 'points'; points: Points }
  /** --max-points: all available points, as far as the lines let them cover. */
  | { kind: 'max' }
  /** --no-points. */
  | { kind: 'none' };

export interface RedeemRules {
  pointsPerUnit: Decimal;
  minPoints: Points;
  maxRatio: Decimal;
}

export interface SplitInput {
  lines: CartLine[];
  coupon: CouponDiscount | null;
  redeem: RedeemRules;
  digits: number;
  available: Points;
  request: PointsRequest;
}

export interface QuoteLine {
  sku: string;
  name: string;
  category: string | null;
  kind: 'goods' | 'coupon';
  pay: PayMode;
  quantity: number;
  unitPrice: Minor;
  amount: Minor; // quantity × unitPrice
  discount: Minor; // this line's share of the coupon discount
  /** Money the points may cover on this line (after its discount share). */
  coverable: Minor;
  /** Points this line needs whatever the request (points-only lines). */
  requiredPoints: Points;
  /** Issue 18: the line's points discount percent, null when none. */
  pointsDiscountPct: string | null;
  /** The face value of the points that cover `coverable` (= coverable without a points discount). */
  pointsCap: Minor;
  /** Mixed lines: the ratio of the net points may pay (the item's, capped by redeem.maxRatio), kept on the order line; else null. */
  pointsRatio: string | null;
}

export interface Quote {
  subtotal: Minor; // Σ line amounts
  discount: Minor;
  total: Minor; // subtotal − discount
  pointsUsed: Points;
  pointsValue: Minor;
  /** Issue 18: what the points paid above their value on points-discounted lines (total − pointsValue − pointsDiscount = cash). */
  pointsDiscount: Minor;
  cashPaid: Minor;
  /** Smallest number of points that converts to a whole minor unit (§4.2). */
  pointsStep: Points;
  /** Value in minor units of one step. */
  stepValue: Minor;
  /** Points the points-only lines need. */
  requiredPoints: Points;
  /** The most points this checkout may use (§4.3: the lines, the available points and minPoints all allow it). */
  maxUsablePoints: Points;
  /** What a --points request may be. */
  allowed: AllowedPoints;
  /** The same in words (allowedInWords): what the quote and the interactive checkout show. */
  allowedText: string;
  /** Why --max-points used fewer points than it might seem to (below minPoints), else null. */
  note: string | null;
  available: Points;
  lines: QuoteLine[];
}

export type SplitRefusal = {
  code: 'POINTS_ONLY_UNCOVERED' | 'INSUFFICIENT_POINTS' | 'POINTS_NOT_ALLOWED' | 'COUPON_INVALID' | 'POINTS_PRICE_INVALID';
  message: string;
  hint?: string;
  /** The same for a person typing the points at a prompt: no flags named (set for a points request). */
  plain?: string;
};

export type SplitOutcome = { ok: true; quote: Quote } | ({ ok: false } & SplitRefusal);

/** The coupon's discount on the money lines' subtotal (never more than it). */
export function couponDiscount(coupon: CouponDiscount, base: Minor): Minor {
  const d = 'value' in coupon ? coupon.value : new Decimal(base).times(coupon.percent).div(100).floor().toNumber();
  return Math.max(0, Math.min(d, base));
}

/**
 * Points a points-only line needs: a unit's all-points price, else a unit's price at the redeem rate in
 * whole steps (rounded up: worth at least the price), times the quantity. Per unit, so three bought at
 * once cost what three bought one at a time do, and a unit refunded gives back what a unit cost.
 */
export function pointsForLine(line: CartLine, step: Points, stepValue: Minor): Points {
  const unit = line.pointsPrice !== null ? line.pointsPrice : Math.ceil(line.unitPrice / stepValue) * step;
  return unit * line.quantity;
}

/**
 * §4.3: the total is Σ lines − the coupon discount (spread over the money lines by amount); mixed lines
 * may be covered by points up to their ratio, cash lines not at all, points lines entirely. A --points
 * request is used exactly or refused (allowedPoints / checkPointsRequest); --max-points takes the largest
 * allowed amount.
 */
export function split(input: SplitInput): SplitOutcome {
  const { lines, redeem, digits, request } = input;
  // A member in debt (a return took back more than was left) has no points to use, not a negative amount.
  const available = Math.max(0, input.available);
  const step = pointsStep(redeem.pointsPerUnit, digits);
  const stepValue = pointsStepValue(step, redeem.pointsPerUnit, digits);

  // §4.2: 0 points are worth nothing. A points-only item stored with a points price of 0 (an older
  // build took one) would be given away as "0 points worth its price": refused, never sold.
  // So would one priced 0.00 without a points price (0 points at the redeem rate).
  const free = lines.find((l) => l.pay === 'points' && (l.pointsPrice !== null ? l.pointsPrice <= 0 : l.unitPrice <= 0));
  if (free) {
    return {
      ok: false,
      code: 'POINTS_PRICE_INVALID',
      message: `${free.sku} (${free.name}) can only be paid in points, but its points price is ${free.pointsPrice ?? `0 (0.00 at the redeem rate)`}: it cannot be sold`,
      hint: `give it a points price with: pointsmall catalog update ${free.sku} --points-price N`,
    };
  }
  const amounts = lines.map((l) => l.unitPrice * l.quantity);
  const subtotal = amounts.reduce((a, b) => a + b, 0);

  // The coupon discounts the lines paid in money; points-only lines keep their points price.
  const moneyIdx = lines.map((l, i) => (l.pay === 'points' ? -1 : i)).filter((i) => i >= 0);
  const moneyBase = moneyIdx.reduce((a, i) => a + amounts[i], 0);
  let discount = 0;
  const discounts = new Array<number>(lines.length).fill(0);
  if (input.coupon) {
    if (moneyBase === 0) {
      return { ok: false, code: 'COUPON_INVALID', message: 'the coupon has nothing to discount: every item in this order is paid in points only' };
    }
    discount = couponDiscount(input.coupon, moneyBase);
    const parts = allocateProportionally(discount, moneyIdx.map((i) => amounts[i]));
    moneyIdx.forEach((i, k) => (discounts[i] = parts[k]));
  }
  const total = subtotal - discount;

  const qlines: QuoteLine[] = lines.map((l, i) => {
    const net = amounts[i] - discounts[i];
    let coverable = 0;
    let requiredPoints = 0;
    let pointsRatio: string | null = null;
    const pct = l.pay === 'mixed' && l.pointsDiscount ? l.pointsDiscount : null;
    if (l.pay === 'mixed') {
      const ratio = l.maxPointsRatio && l.maxPointsRatio.lt(redeem.maxRatio) ? l.maxPointsRatio : redeem.maxRatio;
      coverable = mixedCoverable(net, ratio);
      pointsRatio = ratio.toFixed();
    } else if (l.pay === 'points') {
      coverable = net;
      requiredPoints = pointsForLine(l, step, stepValue);
    }
    return {
      sku: l.sku,
      name: l.name,
      category: l.category,
      kind: l.kind,
      pay: l.pay,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      amount: amounts[i],
      discount: discounts[i],
      coverable,
      requiredPoints,
      pointsDiscountPct: pct,
      pointsCap: pct ? pointsCapFor(coverable, pct) : coverable,
      pointsRatio,
    };
  });

  const required = qlines.reduce((a, l) => a + l.requiredPoints, 0);
  const requiredValue = qlines.reduce((a, l) => a + (l.pay === 'points' ? l.coverable : 0), 0);
  const mixedCap = qlines.reduce((a, l) => a + (l.pay === 'mixed' ? l.pointsCap : 0), 0);
  // Whole steps on each line, never past its cap (§4.2, §4.3): where a step is worth several minor units, a
  // cart's pooled caps could hold a step that no one line can, and a line would carry value without points.
  const maxMixedSteps = qlines.reduce((a, l) => a + (l.pay === 'mixed' ? stepsWithin(l.pointsCap, stepValue) : 0), 0);
  const maxUsable = required + maxMixedSteps * step;

  const pointsOnly = qlines.filter((l) => l.pay === 'points').map((l) => l.sku);
  if (required > 0) {
    const what = `${pointsOnly.join(', ')} can only be paid in points (${required} points)`;
    if (request.kind === 'none') return { ok: false, code: 'POINTS_ONLY_UNCOVERED', message: `${what}, and --no-points was given`, hint: 'drop --no-points (the points-only items then take their points), or remove the points-only items' };
    if (required > available) {
      return { ok: false, code: 'POINTS_ONLY_UNCOVERED', message: `${what}; the member has ${available} available`, hint: 'remove the points-only items or pay them another day' };
    }
  }

  const allowed = allowedPoints({ required, maxMixedSteps, step, minPoints: redeem.minPoints, available });
  const allowedCtx: AllowedContext = { linesMax: maxUsable, available, minPoints: redeem.minPoints, mixedCoverable: mixedCap };
  let pointsUsed: Points;
  let note: string | null = null;
  switch (request.kind) {
    case 'default':
    case 'none':
      pointsUsed = required;
      break;
    case 'max':
      pointsUsed = allowed.max;
      if (allowed.min === null) {
        const unbounded = allowedPoints({ required, maxMixedSteps, step, minPoints: 0, available });
        // §4.6: minPoints applies to the mixed lines' part; the points-only items take theirs regardless
        if (unbounded.min !== null) {
          note = required
            ? `no points used on the mixed items: the most usable on them (${unbounded.max - required}) is below the minimum of ${redeem.minPoints} points on mixed items`
            : `no points used on the mixed items: the most usable (${unbounded.max}) is below the minimum of ${redeem.minPoints} points per checkout`;
        }
      }
      break;
    case 'points': {
      const refusal = checkPointsRequest(request.points, allowed, allowedCtx);
      if (refusal) return { ok: false, ...refusal };
      pointsUsed = request.points;
      break;
    }
  }
  const mixedSteps = (pointsUsed - required) / step;
  const pointsValue = requiredValue + mixedSteps * stepValue;
  const quote: Quote = {
    subtotal,
    discount,
    total,
    pointsUsed,
    pointsValue,
    pointsDiscount: 0,
    cashPaid: total - pointsValue,
    pointsStep: step,
    stepValue,
    requiredPoints: required,
    maxUsablePoints: allowed.max,
    allowed,
    allowedText: allowedInWords(allowed, allowedCtx),
    note,
    available,
    lines: qlines,
  };
  // Issue 18: the points discount of each line follows from the points that line carries (splitLines).
  if (qlines.some((l) => l.pointsDiscountPct)) {
    quote.pointsDiscount = splitLines(quote).reduce((a, x) => a + x.pointsDiscount, 0);
    quote.cashPaid = total - pointsValue - quote.pointsDiscount;
  }
  return { ok: true, quote };
}

/**
 * What a checkout of one unit of an item takes with the most points (§4.3, the same split as a quote
 * with --max-points and points enough): a points-only item its points, a mixed item the points its ratio
 * allows and the rest in cash. Null: it cannot be paid with points (cash only, or a mixed part below minPoints).
 */
export function mostPointsFor(line: CartLine, redeem: RedeemRules, digits: number): { points: Points; cash: Minor } | null {
  if (line.pay === 'cash') return null;
  const q = split({ lines: [{ ...line, quantity: 1 }], coupon: null, redeem, digits, available: Number.MAX_SAFE_INTEGER, request: { kind: 'max' } });
  if (!q.ok || q.quote.pointsUsed <= 0) return null;
  return { points: q.quote.pointsUsed, cash: q.quote.cashPaid };
}

/** What one line of a quote is paid with (§4.5). */
export interface LineSplit {
  points: Points;
  /** The money those points pay on this line (their face value at the redeem rate). */
  pointsValue: Minor;
  /** Issue 18: what they pay above that on a points-discounted line: paysWithDiscount(pointsValue) − pointsValue. */
  pointsDiscount: Minor;
  /** The line's amount after its discount share, less its points' value and points discount. */
  cash: Minor;
}

/** What points may pay on a mixed line: its net (after its coupon share) times its ratio, floored to the minor unit. */
export function mixedCoverable(net: Minor, ratio: Decimal | string): Minor {
  return new Decimal(net).times(ratio).floor().toNumber();
}

/**
 * §4.5: the quote's points, their value and its cash spread over its lines by what each line let points
 * pay. A points-only line carries exactly the points it needs and no cash; a cash-only line carries no
 * points; the points left for the mixed lines are spread over them in whole steps (§4.2) in proportion
 * to the money points may cover on each (its ratio of the line), largest remainder (ties to the earlier
 * line), no line given more whole steps than its cap holds (the rest spread again over the others), so
 * every line's points are worth exactly their value and the parts add up to the quote.
 */
export function splitLines(q: Pick<Quote, 'lines' | 'pointsUsed' | 'pointsValue' | 'pointsStep' | 'stepValue'>): LineSplit[] {
  return spreadOver(q, (mixedPoints, caps) => {
    const steps = allocateCapped(mixedPoints / q.pointsStep, caps, caps.map((c) => stepsWithin(c, q.stepValue)));
    return { points: steps.map((n) => n * q.pointsStep), values: steps.map((n) => n * q.stepValue) };
  });
}

/** What a mixed order line keeps (migration 16) to say its order was spread by splitLines: whole steps within each line's cap. */
export const SPREAD_WITHIN_LINE_CAPS = 1;

/** Whole steps of `stepValue` minor units within a line's cap. */
export function stepsWithin(cap: Minor, stepValue: Minor): number {
  return Math.floor(cap / stepValue);
}

/**
 * The spread builds before 2026-12-05 wrote: steps by caps with no bound per line, or, where a step worth
 * several minor units would pass a line's net, the value by caps and the points by value (so a line could
 * carry value without points). Kept only so `ledger verify` accepts the orders those builds wrote.
 */
export function splitLinesPooled(q: Pick<Quote, 'lines' | 'pointsUsed' | 'pointsValue' | 'pointsStep' | 'stepValue'>): LineSplit[] {
  return spreadOver(q, (mixedPoints, caps, mixed, mixedValue) => {
    const steps = allocateProportionally(mixedPoints / q.pointsStep, caps);
    const pays = (k: number, value: Minor): Minor => paysWithDiscount(value, q.lines[mixed[k]].pointsDiscountPct ?? null);
    if (steps.every((n, k) => pays(k, n * q.stepValue) <= q.lines[mixed[k]].amount - q.lines[mixed[k]].discount)) {
      return { points: steps.map((n) => n * q.pointsStep), values: steps.map((n) => n * q.stepValue) };
    }
    const values = allocateProportionally(mixedValue, caps);
    return { points: allocateProportionally(mixedPoints, values), values };
  });
}

type Spread = (mixedPoints: Points, caps: Minor[], mixed: number[], mixedValue: Minor) => { points: Points[]; values: Minor[] };

function spreadOver(q: Pick<Quote, 'lines' | 'pointsUsed' | 'pointsValue' | 'pointsStep' | 'stepValue'>, spread: Spread): LineSplit[] {
  const out: LineSplit[] = q.lines.map((l) => {
    const net = l.amount - l.discount;
    if (l.pay === 'points') return { points: l.requiredPoints, pointsValue: l.coverable, pointsDiscount: 0, cash: 0 };
    return { points: 0, pointsValue: 0, pointsDiscount: 0, cash: net };
  });
  const mixed = q.lines.map((l, i) => (l.pay === 'mixed' ? i : -1)).filter((i) => i >= 0);
  const onPointsLines = q.lines.reduce((a, l) => a + (l.pay === 'points' ? l.requiredPoints : 0), 0);
  const valueOnPointsLines = q.lines.reduce((a, l) => a + (l.pay === 'points' ? l.coverable : 0), 0);
  const mixedPoints = q.pointsUsed - onPointsLines;
  if (mixed.length === 0 || mixedPoints === 0) return out;
  const caps = mixed.map((i) => q.lines[i].pointsCap ?? q.lines[i].coverable);
  const { points, values } = spread(mixedPoints, caps, mixed, q.pointsValue - valueOnPointsLines);
  mixed.forEach((i, k) => {
    out[i].points = points[k];
    out[i].pointsValue = values[k];
    out[i].pointsDiscount = paysWithDiscount(values[k], q.lines[i].pointsDiscountPct ?? null) - values[k];
    out[i].cash -= values[k] + out[i].pointsDiscount;
  });
  return out;
}

// ---- issue 18: points discounts on chosen items ----
/**
 * The money points worth `value` (minor units, at the redeem rate) pay on a line with a points discount of
 * `pct` percent: floor(value × 100 / (100 − pct)), exact in integers (pct has at most 2 decimals). The
 * discount is proportional to the points' value and rounded down, so a token point — worth less than
 * (100 − pct) / pct minor units — earns no discount at all, and no payment gets more than 100/(100 − pct).
 */
export function paysWithDiscount(value: Minor, pct: string | null): Minor {
  if (!pct || value <= 0) return value;
  const keep = 10_000n - centiPercent(pct); // (100 − pct) in hundredths of a percent
  return Number((BigInt(value) * 10_000n) / keep);
}

/** The largest face value whose discounted payment stays within `coverable` (the line's ratio of its net). */
export function pointsCapFor(coverable: Minor, pct: string): Minor {
  const keep = 10_000n - centiPercent(pct);
  // floor(F·10000/keep) ≤ C  ⇔  F·10000 < (C+1)·keep  ⇔  F ≤ ((C+1)·keep − 1) div 10000
  return Number(((BigInt(coverable) + 1n) * keep - 1n) / 10_000n);
}

function centiPercent(pct: string): bigint {
  const d = new Decimal(pct).times(100);
  if (!d.isInteger() || d.lte(0) || d.gt(9000)) throw new Error(`points discount ${pct} is not a percent above 0 and at most 90 with 2 decimals`);
  return BigInt(d.toFixed(0));
}
// ---- end of issue 18 block ----

/**
 * What a points request may be (§4.3 as revised): the points-only lines' points (`required`) always, or
 * any total from `min` to `max` in whole `step`s, where the mixed lines' part is at least one step and
 * at least `redeem.minPoints` (§4.6: minPoints applies to the mixed lines' part; points-only lines always
 * take their points), the total at most the available points and at most what the lines can take.
 * `min` is null when no such total exists (then `max` = `required`).
 */
export interface AllowedPoints {
  required: Points;
  min: Points | null;
  max: Points;
  step: Points;
}

export function allowedPoints(a: { required: Points; maxMixedSteps: number; step: Points; minPoints: Points; available: Points }): AllowedPoints {
  const { required, step } = a;
  const lowSteps = Math.max(1, Math.ceil(a.minPoints / step));
  const highSteps = Math.min(a.maxMixedSteps, Math.floor(Math.max(0, a.available - required) / step));
  if (lowSteps > highSteps) return { required, min: null, max: required, step };
  return { required, min: required + lowSteps * step, max: required + highSteps * step, step };
}

/** The allowed amounts in words: "0, or 200 to 5000 in steps of 10". */
export function describeAllowed(a: AllowedPoints): string {
  const base = a.required > 0 ? `${a.required} (the points-only items)` : '0';
  if (a.min === null) return `only ${base}`;
  const range = a.min === a.max ? `${a.min}` : `${a.min} to ${a.max}${a.step > 1 ? ` in steps of ${a.step}` : ''}`;
  return `${base}, or ${range}`;
}

/** Why no points beyond the points-only items can be used (allowed.min is null), in words. */
function noPointsWhy(a: AllowedPoints, ctx: AllowedContext): string {
  const room = ctx.linesMax - a.required;
  if (room <= 0 && (ctx.mixedCoverable ?? 0) > 0) return `${a.step === 1 ? 'one point is' : `one step of ${a.step} points is`} worth more than points may pay on any one of these items`;
  if (room <= 0) return a.required > 0 ? 'no other item takes points' : 'these items take no points (they are paid in cash)';
  const spare = ctx.available - a.required;
  if (spare <= 0) return a.required > 0 ? `the member's ${ctx.available} available points all go to the points-only items` : 'the member has no points available';
  const most = Math.floor(Math.min(room, spare) / a.step) * a.step;
  if (most <= 0) return `points go in steps of ${a.step} and not one step fits`;
  if (a.required > 0) return `at most ${most} more could be used on the mixed items, below the minimum of ${ctx.minPoints} points on mixed items`;
  return `at most ${most} could be used, below the minimum of ${ctx.minPoints} points per checkout`;
}

/** What the allowed points depend on besides themselves: what the lines can take, the member's available points, the rules' minimum. */
export interface AllowedContext {
  linesMax: Points;
  available: Points;
  minPoints: Points;
  /** Minor units the mixed lines let points pay: above 0 with linesMax at the points-only part, one step is worth more. */
  mixedCoverable?: number;
}

/**
 * What may be used, in the words a checkout refusal, the quote and the interactive checkout all show:
 * "0, or 200 to 5000 in steps of 10", or, when nothing beyond the points-only items can be used, that
 * plainly with the reason ("no points can be used here: the member has no points available"), never "only 0".
 */
export function allowedInWords(a: AllowedPoints, ctx: AllowedContext): string {
  if (a.min !== null) return describeAllowed(a);
  const none = noPointsWhy(a, ctx);
  return a.required > 0 ? `no points beyond the ${a.required} of the points-only items can be used here: ${none}` : `no points can be used here: ${none}`;
}

/** null when --points N can be used exactly, else why not (exit 3), naming what is allowed; `plain` says it without flags. */
export function checkPointsRequest(points: Points, a: AllowedPoints, ctx: AllowedContext): SplitRefusal | null {
  if (points === a.required) return null;
  if (a.min !== null && points >= a.min && points <= a.max && (points - a.required) % a.step === 0) return null;
  const allowed = describeAllowed(a);
  const none = a.min === null;
  const allowedText = none ? allowedInWords(a, ctx) : `allowed: ${allowed}`;
  const hint = !none ? `use --points with ${allowed}, or --max-points for the most allowed` : a.required > 0 ? `use --points ${a.required} (the points-only items), or --max-points` : 'leave out --points (or pass --points 0) and pay in cash';
  const refuse = (code: SplitRefusal['code'], why: string, flagged = true): SplitRefusal => ({
    code,
    message: `${flagged ? `--points ${points} ${why}` : why}; ${allowedText}`,
    hint,
    plain: `${flagged ? `${points} ${why}` : why}; ${!none ? `enter ${allowed}` : `${allowedText}; enter ${a.required}`}`,
  });
  if (points < a.required) return refuse('POINTS_ONLY_UNCOVERED', `does not cover the points-only items (${a.required} points)`);
  if (points > ctx.linesMax) return refuse('POINTS_NOT_ALLOWED', `is more than these items can take (at most ${ctx.linesMax})`);
  if (points > ctx.available) return refuse('INSUFFICIENT_POINTS', `${points} points requested but the member has only ${ctx.available} available`, false);
  // §4.6: the minimum applies to the mixed items' part (the points-only items take theirs regardless)
  if (points - a.required < ctx.minPoints) {
    return refuse('POINTS_NOT_ALLOWED', a.required > 0 ? `puts ${points - a.required} on the mixed items, below the minimum of ${ctx.minPoints} points on mixed items` : `is below the minimum of ${ctx.minPoints} points per checkout`);
  }
  if ((points - a.required) % a.step !== 0) return refuse('POINTS_NOT_ALLOWED', `is not a whole number of steps of ${a.step} points (points must convert to whole minor units)`);
  return refuse('POINTS_NOT_ALLOWED', 'cannot be used exactly');
}

/**
 * The points value and cash remaining for a typed number of points, for the interactive preview:
 * the same rounding as split(), so what is shown is what will be charged.
 */
export function previewPoints(base: SplitInput, points: Points): SplitOutcome {
  return split({ ...base, request: { kind: 'points', points } });
}

/** Order statuses of a checkout that ended without being paid. */
const UNPAID_CLOSED: ReadonlySet<string> = new Set(['declined', 'expired', 'cancelled']);

/**
 * What an order is paid with, in the tool's tender words: `points` when no cash is paid, the cash part's
 * tender (`cash`, `card`, …) when no points are used, `points+card` for both; null when nothing is paid (a
 * coupon covered it all). `tender` names how the cash part is paid, so an order without one has none (a
 * held order's cash part not yet given a tender is paid `cash` by default, as confirm does).
 */
export function paidWith(pointsUsed: Points, cashPaid: Minor, tender: string | null, status?: string): { tender: string | null; paidWith: string | null } {
  // an order closed unpaid (declined, expired, cancelled) was paid with nothing: the tender is the one it was to be paid by
  if (status !== undefined && UNPAID_CLOSED.has(status)) return { tender: cashPaid > 0 ? tender : null, paidWith: null };
  const parts = [...(pointsUsed > 0 ? ['points'] : []), ...(cashPaid > 0 ? [tender ?? 'cash'] : [])];
  return { tender: cashPaid > 0 ? tender : null, paidWith: parts.length ? parts.join('+') : null };
}
