// Money as integer minor units and points as integers; decimal.js only for rates, rounded at named steps.
import { Decimal } from 'decimal.js';
import { lookalikeCharsProblem } from './text.js';

export type Minor = number; // integer count of the currency's minor unit (fen for CNY)
export type Points = number; // integer points

/**
 * Ceilings that keep every number exact (far below 2^53 ≈ 9.007e15, with room for sums over many members):
 * an amount field, a line and an order total at most 10^12 minor units; an order's or an adjust's points,
 * a member's balance and lifetime earned points at most 10^12 points.
 */
export const AMOUNT_MAX: Minor = 1e12;
export const POINTS_MAX: Points = 1e12;

const MONEY_RE = /^([+-])?(\d+)(?:\.(\d+))?$/;

/** Minor-unit digits of an ISO currency code (CNY 2, JPY 0), from Intl. Throws on an unknown code. */
export function currencyDigits(currency: string): number {
  if (!/^[A-Z]{3}$/.test(currency)) throw new RangeError(`"${currency}" is not an ISO 4217 currency code`);
  const nf = new Intl.NumberFormat('en', { style: 'currency', currency });
  return nf.resolvedOptions().maximumFractionDigits ?? 2;
}

/** Names for a currency that are not its ISO 4217 code, and the code meant. */
const CURRENCY_ALIASES: Record<string, string> = { RMB: 'CNY', CNH: 'CNY', NTD: 'TWD', YEN: 'JPY', EURO: 'EUR', UKP: 'GBP' };

/**
 * Why `code` is not a currency ISO 4217 lists (as Intl knows them), else null: three letters alone pass
 * the check currencyDigits makes (`CYN`, `RMB` format as money too), and a ledger's currency is fixed
 * at init for good. The reason names the code meant: an alias (`RMB` → `CNY`), or codes one letter or
 * one swap of neighbours away.
 */
export function currencyCodeProblem(code: string): string | null {
  const known = Intl.supportedValuesOf('currency');
  if (known.includes(code)) return null;
  const alias = CURRENCY_ALIASES[code];
  const near = alias ? [alias] : known.filter((k) => {
    if (k.length !== code.length) return false;
    const diff = [...k].flatMap((ch, i) => (ch === code[i] ? [] : [i]));
    return diff.length === 1 || (diff.length === 2 && diff[1] === diff[0] + 1 && k[diff[0]] === code[diff[1]] && k[diff[1]] === code[diff[0]]);
  });
  const meant = near.length ? `: did you mean ${near.slice(0, 4).join(' or ')}?` : '';
  return `${JSON.stringify(code)} is not an ISO 4217 currency code${meant}`;
}

/** What to do about a quantity that is not a plain number, by what it holds (as an amount's, but for units). */
export const quantityHint = (t: string): string => amountHint(t, 'write a number of units, like 2 or 1.5');

/** What to do about an amount that is not a plain decimal, by what it holds. */
function amountHint(t: string, plain = 'write it like 100.00'): string {
  // 1,234 may be a thousand and more, or one and a bit with a decimal comma: both readings are offered
  if (/^[+-]?\d{1,3},\d{3}$/.test(t)) return `a comma: write ${t.replace(',', '')} if it separates thousands, or ${t.replace(',', '.')} if it is a decimal comma`;
  if (/^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$/.test(t)) return `a thousands separator: write it without, like ${t.replace(/,/g, '')}`;
  if (/^[+-]?\d{1,3}([ \u00a0\u202f]\d{3})+(,\d+)?$/.test(t)) return `spaces between thousands${t.includes(',') ? ' and a decimal comma' : ''}: write it like ${t.replace(/[ \u00a0\u202f]/g, '').replace(',', '.')}`;
  if (/^[+-]?\d{1,3}(\.\d{3})*,\d+$/.test(t)) return `a decimal comma: write it with a point and no thousands separator, like ${t.replace(/\./g, '').replace(',', '.')}`;
  // an accountant's negative: (28.50), or SAP's 28.50- (inner separators get their own hint once moved)
  const neg = /^\(\s*([^()\s-][^()]*?)\s*\)$/.exec(t) ?? /^([^-\s][^\s]*?)-$/.exec(t);
  if (neg) {
    const inner = MONEY_RE.test(neg[1]) ? `-${neg[1]}` : null;
    const how = t.startsWith('(') ? 'brackets, an accountant\'s minus sign' : 'a minus sign at the end';
    if (inner) return `${how}: write it ${inner}`;
    const also = amountHint(neg[1], plain);
    if (also !== plain) return `${how} (write it with a leading -), and ${also}`;
  }
  if (/^[+-]?[¥$€£￥]|[¥$€£￥]$|^(CNY|RMB|USD|EUR)\s*|\s*(CNY|RMB|USD|EUR|元)$/i.test(t)) return 'a currency sign or code: write the number alone, like 100.00';
  return lookalikeCharsProblem(t) ?? plain;
}

export type ParseResult<T> = { ok: true; value: T } | { ok: false; problem: string };

/**
 * Reads a decimal string ("100.00", "-3.5", "7") into minor units, exactly.
 * Refuses exponents, NaN, thousands separators, more fraction digits than the currency has
 * (unless they are zeros) and amounts above `max` (AMOUNT_MAX unless told; never past 15 digits).
 */
export function parseMoney(text: string, digits: number, max: Minor = AMOUNT_MAX): ParseResult<Minor> {
  const t = text.trim();
  const m = MONEY_RE.exec(t);
  if (!m) return { ok: false, problem: `"${text}" is not a decimal amount (${amountHint(t)})` };
  const [, sign, whole, fracRaw = ''] = m;
  let frac = fracRaw;
  if (frac.length > digits) {
    if (/[^0]/.test(frac.slice(digits))) {
      return { ok: false, problem: `"${text}" has more than ${digits} decimal places` };
    }
    frac = frac.slice(0, digits);
  }
  const digitsStr = (whole.replace(/^0+(?=\d)/, '') + frac.padEnd(digits, '0')).replace(/^0+(?=\d)/, '');
  if (digitsStr.length > 15 || Number(digitsStr) > max) {
    return { ok: false, problem: `"${text}" is too large an amount (at most ${formatMoney(max, digits)})` };
  }
  const n = Number(digitsStr);
  const value = sign === '-' && n !== 0 ? -n : n;
  return { ok: true, value };
}

/** Formats minor units as a decimal string with exactly `digits` places ("100.00"). */
export function formatMoney(minor: Minor, digits: number): string {
  const neg = minor < 0;
  const abs = String(Math.abs(minor)).padStart(digits + 1, '0');
  const s = digits === 0 ? abs : `${abs.slice(0, abs.length - digits)}.${abs.slice(abs.length - digits)}`;
  return neg ? `-${s}` : s;
}

/** Reads a whole number of points; refuses fractions, exponents and unsafe sizes. */
export function parsePoints(text: string, opts: { allowNegative?: boolean } = {}): ParseResult<Points> {
  const t = text.trim();
  if (!/^[+-]?\d+$/.test(t)) return { ok: false, problem: `"${text}" is not a whole number of points` };
  const n = Number(t);
  if (!Number.isSafeInteger(n) || Math.abs(n) > POINTS_MAX) return { ok: false, problem: `"${text}" is too large a number of points (at most ${POINTS_MAX})` };
  if (n < 0 && !opts.allowNegative) return { ok: false, problem: `"${text}" must not be negative` };
  return { ok: true, value: n === 0 ? 0 : n };
}

/**
 * Reads a decimal rate ("1.5", 2) for decimal.js; refuses NaN, Infinity and exponents (a JSON number is
 * read as the decimal it denotes, so 1e-7 is 0.0000001). `exponent` also takes "1e-7" as a string: a
 * version stored by an older build is read back, never refused.
 */
export function parseRate(input: unknown, opts: { exponent?: boolean } = {}): ParseResult<Decimal> {
  if (typeof input === 'number') {
    if (!Number.isFinite(input)) return { ok: false, problem: `${input} is not a finite number` };
    return { ok: true, value: new Decimal(input) };
  }
  const re = opts.exponent ? /^[+-]?(\d+(\.\d*)?|\.\d+)(e[+-]?\d{1,4})?$/i : /^[+-]?(\d+(\.\d*)?|\.\d+)$/;
  if (typeof input !== 'string' || !re.test(input.trim())) {
    return { ok: false, problem: `${JSON.stringify(input)} is not a decimal number` };
  }
  return { ok: true, value: new Decimal(input.trim()) };
}

/** §4.2: the value of points, in whole minor units (floor). */
export function pointsValue(points: Points, redeemPointsPerUnit: Decimal.Value, digits: number): Minor {
  return new Decimal(points).times(new Decimal(10).pow(digits)).div(redeemPointsPerUnit).floor().toNumber();
}

/**
 * §4.2: the smallest positive number of points that converts to a whole number of minor units.
 * Points are only ever used in multiples of it (1000 points per yuan → steps of 10).
 */
export function pointsStep(redeemPointsPerUnit: Decimal.Value, digits: number): Points {
  // points × 10^d / ppu is whole ⇔ points is a multiple of ppu / gcd(ppu, 10^d), ppu written as a fraction.
  const ppu = new Decimal(redeemPointsPerUnit);
  const [num, den] = ppu.toFraction().map((d) => BigInt(d.toFixed(0)));
  const scale = 10n ** BigInt(digits) * den;
  const g = gcd(num, scale);
  return Number(num / g);
}

/** The value of one step of points (pointsStep) in minor units: a whole number by the step's definition. */
export function pointsStepValue(step: Points, redeemPointsPerUnit: Decimal.Value, digits: number): Minor {
  return new Decimal(step).times(new Decimal(10).pow(digits)).div(redeemPointsPerUnit).toNumber();
}

function gcd(a: bigint, b: bigint): bigint {
  while (b !== 0n) [a, b] = [b, a % b];
  return a < 0n ? -a : a;
}

/**
 * Splits an integer total over weights in proportion, by largest remainder, so the parts add up
 * exactly (used for refunds: points, cash and earned points over order lines).
 */
export function allocateProportionally(total: number, weights: readonly number[]): number[] {
  const n = weights.length;
  if (n === 0) return [];
  const sumW = weights.reduce((a, b) => a + b, 0);
  if (sumW === 0) {
    const out = new Array<number>(n).fill(0);
    out[0] = total;
    return out;
  }
  const sign = total < 0 ? -1 : 1;
  const abs = BigInt(Math.abs(total));
  const W = BigInt(sumW);
  const base: bigint[] = [];
  const rems: { i: number; r: bigint }[] = [];
  let given = 0n;
  weights.forEach((w, i) => {
    const p = abs * BigInt(w);
    base.push(p / W);
    rems.push({ i, r: p % W });
    given += p / W;
  });
  let left = abs - given;
  rems.sort((a, b) => (b.r === a.r ? a.i - b.i : b.r > a.r ? 1 : -1));
  for (const { i } of rems) {
    if (left === 0n) break;
    base[i] += 1n;
    left -= 1n;
  }
  return base.map((b) => (b === 0n ? 0 : sign * Number(b))); // never -0
}

/**
 * allocateProportionally with a bound on each part (0 ≤ total ≤ Σ bounds): a part whose share of what is
 * left would pass its bound gets its bound, and the rest is spread again over the others, until every
 * share fits; then largest remainder as above. With no bound reached it is allocateProportionally exactly.
 * A share that fits its (whole) bound rounds up to at most that bound, so no part ever passes it.
 */
export function allocateCapped(total: number, weights: readonly number[], bounds: readonly number[]): number[] {
  const n = weights.length;
  const cap = bounds.reduce((a, b) => a + b, 0);
  if (total < 0 || total > cap) throw new Error(`cannot spread ${total} within bounds adding up to ${cap}`);
  const out = new Array<number>(n).fill(0);
  let open = weights.map((_, i) => i).filter((i) => bounds[i] > 0);
  let left = total;
  for (;;) {
    const W = BigInt(open.reduce((a, i) => a + weights[i], 0));
    const over = W === 0n ? [] : open.filter((i) => BigInt(left) * BigInt(weights[i]) > BigInt(bounds[i]) * W);
    if (over.length === 0) break;
    for (const i of over) {
      out[i] = bounds[i];
      left -= bounds[i];
    }
    open = open.filter((i) => !over.includes(i));
  }
  if (open.length === 0) return out; // left is 0: the bounds took it all
  if (open.every((i) => weights[i] === 0)) {
    // no weight to go by: fill the bounds in order
    for (const i of open) {
      const take = Math.min(left, bounds[i]);
      out[i] = take;
      left -= take;
    }
    return out;
  }
  allocateProportionally(left, open.map((i) => weights[i])).forEach((p, k) => (out[open[k]] = p));
  return out;
}
