// Catalog items at the edge: raw text (flags or CSV cells) → a validated item, or problems naming each field; pure.
import { Decimal } from 'decimal.js';
import { type Minor, type Points, parseMoney, parsePoints } from './money.js';
import { shownName, trimAscii } from './text.js';

export type Pay = 'mixed' | 'cash' | 'points';
export type Kind = 'goods' | 'coupon';
export const PAY_MODES: readonly Pay[] = ['mixed', 'cash', 'points'];
export const KINDS: readonly Kind[] = ['goods', 'coupon'];
/** Issue 18: the largest --points-discount (each point then pays 10 times its value on that line). */
export const POINTS_DISCOUNT_MAX = 90;
/** Coupon items expire this many days after issue when --coupon-days is not given. */
export const DEFAULT_COUPON_DAYS = 30;

export interface CatalogItem {
  sku: string;
  name: string;
  category: string | null;
  price: Minor;
  /** The all-points price; null = the price converted at the redeem rate. */
  pointsPrice: Points | null;
  pay: Pay;
  /** Decimal string 0..1, at most this share of a mixed line may be paid in points; null = the rules' maxRatio. */
  maxPointsRatio: string | null;
  /** null = unlimited. */
  stock: number | null;
  kind: Kind;
  couponValue: Minor | null;
  couponPercent: string | null;
  couponDays: number | null;
  active: boolean;
  /** Issue 18: percent 0 < p ≤ 90 by which points paying this mixed item pay more than their value; null = none. */
  pointsDiscount: string | null;
}

/**
 * An item as typed: every field raw text. undefined = not given (kept from the base item on an
 * update, else the default); '' = cleared (optional fields) or the default (pay, kind, active).
 */
export interface ItemText {
  sku?: string;
  name?: string;
  price?: string;
  category?: string;
  pointsPrice?: string;
  pay?: string;
  maxPointsRatio?: string;
  stock?: string;
  kind?: string;
  couponValue?: string;
  couponPercent?: string;
  couponDays?: string;
  active?: string;
  pointsDiscount?: string;
}

/** field is the flag without its dashes (points-price); CSV columns are the same in snake_case. */
export interface ItemProblem {
  field: string;
  message: string;
}

export const FIELD_FLAGS: Record<keyof ItemText, string> = {
  sku: 'sku',
  name: 'name',
  price: 'price',
  category: 'category',
  pointsPrice: 'points-price',
  pay: 'pay',
  maxPointsRatio: 'max-points-ratio',
  stock: 'stock',
  kind: 'kind',
  couponValue: 'coupon-value',
  couponPercent: 'coupon-percent',
  couponDays: 'coupon-days',
  active: 'active',
  pointsDiscount: 'points-discount',
};

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const SKU_RE = /^[A-Za-z0-9][A-Za-z0-9._\-/]{0,63}$/;
const DECIMAL_RE = /^\d+(\.\d+)?$/;

export function skuProblem(sku: string): string | null {
  if (sku.trim() === '') return 'sku is empty';
  if (!SKU_RE.test(sku)) {
    // the first character that is not allowed, named (an accented letter, a full-width one, a space)
    const bad = [...sku].find((ch, i) => !(i === 0 ? /[A-Za-z0-9]/ : /[A-Za-z0-9._\-/]/).test(ch));
    const code = bad === undefined ? '' : `U+${bad.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    const why = bad === undefined ? 'it is longer than 64 characters' : /\p{M}/u.test(bad) ? `${code}, a combining mark (an accent written apart from its letter), is not one` : `${shownName(bad)}${bad.codePointAt(0)! > 0x7e ? ` (${code})` : ''} is not one${sku.indexOf(bad) === 0 && /[._\-/]/.test(bad) ? ' to start with' : ''}`;
    return `sku ${JSON.stringify(sku)} must be 1-64 ASCII letters (A-Z, a-z), digits, . _ - / (starting with a letter or digit): ${why}`;
  }
  return null;
}

function text(value: string, what: string, max: number): string | null {
  if (value.trim() === '') return `${what} is empty`;
  if (value.length > max) return `${what} is longer than ${max} characters`;
  if (CONTROL.test(value)) return `${what} contains control characters`;
  return null;
}

function money(raw: string, digits: number, what: string, opts: { positive?: boolean } = {}): { value?: Minor; problem?: string } {
  const r = parseMoney(raw, digits);
  if (!r.ok) return { problem: r.problem };
  if (r.value < 0 || /^\s*-/.test(raw)) return { problem: `${what} ${JSON.stringify(raw)} must not be negative` };
  if (opts.positive && r.value === 0) return { problem: `${what} must be above zero` };
  return { value: r.value };
}

function decimalIn(raw: string, lo: number, hi: number, what: string): { value?: string; problem?: string } {
  const t = raw.trim();
  if (!DECIMAL_RE.test(t)) return { problem: `${what} ${JSON.stringify(raw)} is not a decimal number like ${hi === 1 ? '0.5' : '10'}` };
  const d = new Decimal(t);
  if (d.lt(lo) || d.gt(hi)) return { problem: `${what} ${JSON.stringify(raw)} must be between ${lo} and ${hi}` };
  return { value: d.toString() };
}

function bool(raw: string): boolean | null {
  const t = raw.trim().toLowerCase();
  if (['', 'true', 'yes', 'y', '1'].includes(t)) return true;
  if (['false', 'no', 'n', '0'].includes(t)) return false;
  return null;
}

export interface ParsedItem {
  item?: CatalogItem;
  problems: ItemProblem[];
}

/**
 * Validates an item: on its own (add, a new CSV row) or as changes to `base` (update, a CSV row for
 * an existing sku). Cross-field rules: coupon fields only on coupon items, a coupon has a value XOR
 * a percent, no points price or ratio on a cash item, a ratio only on a mixed item. A field kept
 * from the base that a change made meaningless (a ratio when pay becomes cash) is dropped, not refused.
 */
export function parseItem(input: ItemText, digits: number, base?: CatalogItem): ParsedItem {
  const problems: ItemProblem[] = [];
  const bad = (k: keyof ItemText, message: string) => problems.push({ field: FIELD_FLAGS[k], message });
  const given = (k: keyof ItemText) => input[k] !== undefined;

  let sku = base?.sku ?? '';
  if (given('sku') || !base) {
    sku = trimAscii(input.sku ?? ''); // (a no-break space at its end is refused, not trimmed: trial 39)
    const p = skuProblem(sku);
    if (p) bad('sku', p);
  }
  let name = base?.name ?? '';
  if (given('name') || !base) {
    name = (input.name ?? '').trim();
    const p = text(name, 'name', 200);
    if (p) bad('name', p);
  }
  let price = base?.price ?? 0;
  if (given('price') || !base) {
    const raw = input.price ?? '';
    if (raw.trim() === '') bad('price', 'price is empty');
    else {
      const r = money(raw, digits, 'price');
      if (r.problem) bad('price', r.problem);
      else price = r.value!;
    }
  }
  let category = base?.category ?? null;
  if (given('category')) {
    const raw = input.category!.trim();
    if (raw === '') category = null;
    else {
      const p = text(raw, 'category', 64);
      if (p) bad('category', p);
      category = raw;
    }
  }
  let pointsPrice = base?.pointsPrice ?? null;
  if (given('pointsPrice')) {
    const raw = input.pointsPrice!.trim();
    if (raw === '') pointsPrice = null;
    else {
      const r = parsePoints(raw);
      if (!r.ok) bad('pointsPrice', `points price ${r.problem}`);
      // §4.2: 0 points are worth nothing, so a points price of 0 would give the item away
      else if (r.value === 0) bad('pointsPrice', `points price ${JSON.stringify(raw)} must be above zero (leave it empty for the price at the redeem rate)`);
      else pointsPrice = r.value;
    }
  }
  let pay: Pay = base?.pay ?? 'mixed';
  if (given('pay')) {
    const raw = input.pay!.trim().toLowerCase();
    if (raw === '') pay = 'mixed';
    else if ((PAY_MODES as string[]).includes(raw)) pay = raw as Pay;
    else bad('pay', `pay ${JSON.stringify(input.pay)} must be one of ${PAY_MODES.join(', ')}`);
  }
  let maxPointsRatio = base?.maxPointsRatio ?? null;
  if (given('maxPointsRatio')) {
    const raw = input.maxPointsRatio!.trim();
    if (raw === '') maxPointsRatio = null;
    else {
      const r = decimalIn(raw, 0, 1, 'max points ratio');
      if (r.problem) bad('maxPointsRatio', r.problem);
      else maxPointsRatio = r.value!;
    }
  }
  let stock = base ? base.stock : null;
  if (given('stock')) {
    const raw = input.stock!.trim();
    if (raw === '' || raw.toLowerCase() === 'unlimited') stock = null;
    else {
      const r = parsePoints(raw);
      if (!r.ok) bad('stock', `stock ${JSON.stringify(input.stock)} must be a whole number ≥ 0 or "unlimited"`);
      else stock = r.value;
    }
  }
  let kind: Kind = base?.kind ?? 'goods';
  if (given('kind')) {
    const raw = input.kind!.trim().toLowerCase();
    if (raw === '') kind = 'goods';
    else if ((KINDS as string[]).includes(raw)) kind = raw as Kind;
    else bad('kind', `kind ${JSON.stringify(input.kind)} must be one of ${KINDS.join(', ')}`);
  }
  let couponValue = base?.couponValue ?? null;
  if (given('couponValue')) {
    const raw = input.couponValue!;
    if (raw.trim() === '') couponValue = null;
    else {
      const r = money(raw, digits, 'coupon value', { positive: true });
      if (r.problem) bad('couponValue', r.problem);
      else couponValue = r.value!;
    }
  }
  let couponPercent = base?.couponPercent ?? null;
  if (given('couponPercent')) {
    const raw = input.couponPercent!.trim();
    if (raw === '') couponPercent = null;
    else {
      const r = decimalIn(raw, 1, 100, 'coupon percent');
      if (r.problem) bad('couponPercent', r.problem);
      else couponPercent = r.value!;
    }
  }
  let couponDays = base?.couponDays ?? null;
  if (given('couponDays')) {
    const raw = input.couponDays!.trim();
    if (raw === '') couponDays = null;
    else {
      const r = parsePoints(raw);
      if (!r.ok || r.value < 1 || r.value > 36500) bad('couponDays', `coupon days ${JSON.stringify(input.couponDays)} must be a whole number of days from 1 to 36500`);
      else couponDays = r.value;
    }
  }
  let active = base?.active ?? true;
  if (given('active')) {
    const b = bool(input.active!);
    if (b === null) bad('active', `active ${JSON.stringify(input.active)} must be true or false`);
    else active = b;
  }

  let pointsDiscount = base?.pointsDiscount ?? null;
  if (given('pointsDiscount')) {
    const raw = input.pointsDiscount!.trim();
    if (raw === '' || (DECIMAL_RE.test(raw) && new Decimal(raw).isZero())) pointsDiscount = null;
    else {
      const r = decimalIn(raw, 0, POINTS_DISCOUNT_MAX, 'points discount');
      if (r.problem) bad('pointsDiscount', r.problem);
      else if (new Decimal(r.value!).decimalPlaces() > 2) bad('pointsDiscount', `points discount ${JSON.stringify(raw)} has more than 2 decimal places`);
      else pointsDiscount = r.value!;
    }
  }

  // Cross-field rules: a value the user gave is refused; one only inherited from the base is dropped.
  if (pay !== 'mixed' && pointsDiscount !== null) {
    if (given('pointsDiscount')) bad('pointsDiscount', `a points discount applies only to --pay mixed items (this one is ${pay}; a points-only item takes --points-price)`);
    else pointsDiscount = null;
  }
  if (pay === 'cash' && pointsPrice !== null) {
    if (given('pointsPrice')) bad('pointsPrice', 'a --pay cash item accepts no points, so it has no points price');
    else pointsPrice = null;
  }
  if (!given('pointsPrice') && pointsPrice !== null && pointsPrice <= 0) {
    // an item stored by an older build with a points price of 0: a change must set a real one
    bad('pointsPrice', `the item's stored points price ${pointsPrice} must be above zero: give a points price (or an empty one for the price at the redeem rate) with this change`);
  }
  if (pay === 'points' && pointsPrice === null && price === 0 && !problems.some((p) => p.field === 'price')) {
    // §4.2: at the redeem rate 0.00 is 0 points, so the item would be given away (a checkout of it, then verify, say so)
    bad(given('pointsPrice') ? 'pointsPrice' : given('price') || !base ? 'price' : 'pay', 'a points-only item priced 0.00 costs 0 points at the redeem rate and would be given away: give it a price above 0.00 or a --points-price');
  }
  if (pay !== 'mixed' && maxPointsRatio !== null) {
    if (given('maxPointsRatio')) bad('maxPointsRatio', `a max points ratio applies only to --pay mixed items (this one is ${pay})`);
    else maxPointsRatio = null;
  }
  if (kind === 'goods') {
    for (const k of ['couponValue', 'couponPercent', 'couponDays'] as const) {
      const v = k === 'couponValue' ? couponValue : k === 'couponPercent' ? couponPercent : couponDays;
      if (v === null) continue;
      if (given(k)) bad(k, `--${FIELD_FLAGS[k]} applies only to coupon items (add --kind coupon)`);
    }
    couponValue = couponPercent = couponDays = null;
  } else {
    if (couponValue !== null && couponPercent !== null) {
      if (given('couponValue') && given('couponPercent')) bad('couponPercent', 'a coupon has either --coupon-value or --coupon-percent, not both');
      else if (given('couponPercent')) couponValue = null;
      else couponPercent = null;
    }
    if (couponValue === null && couponPercent === null && !problems.some((p) => p.field.startsWith('coupon-'))) {
      bad('couponValue', 'a coupon item needs --coupon-value AMOUNT or --coupon-percent 1..100');
    }
    if (couponDays === null) couponDays = DEFAULT_COUPON_DAYS;
  }

  if (problems.length) return { problems };
  return {
    problems,
    item: { sku, name, category, price, pointsPrice, pay, maxPointsRatio, stock, kind, couponValue, couponPercent, couponDays, active, pointsDiscount },
  };
}

/** True when two items carry the same master data (an import row that changes nothing). */
export function sameItem(a: CatalogItem, b: CatalogItem): boolean {
  return (Object.keys(a) as (keyof CatalogItem)[]).every((k) => a[k] === b[k]);
}
