import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  allocateCapped,
  allocateProportionally,
  currencyCodeProblem,
  currencyDigits,
  formatMoney,
  parseMoney,
  parsePoints,
  parseRate,
  pointsStep,
  pointsValue,
} from '../../src/domain/money.js';

const ok = (text: string, digits = 2) => {
  const r = parseMoney(text, digits);
  if (!r.ok) throw new Error(`expected ${text} to parse: ${r.problem}`);
  return r.value;
};
const problem = (text: string, digits = 2) => {
  const r = parseMoney(text, digits);
  if (r.ok) throw new Error(`expected ${text} to be refused, got ${r.value}`);
  return r.problem;
};

describe('parseMoney', () => {
  it('reads decimal strings into exact minor units', () => {
    expect(ok('100.00')).toBe(10000);
    expect(ok('0.01')).toBe(1);
    expect(ok('7')).toBe(700);
    expect(ok('-3.5')).toBe(-350);
    expect(ok('+1.00')).toBe(100);
    expect(ok(' 5 ')).toBe(500);
    expect(ok('0.29')).toBe(29); // 0.29 * 100 is 28.999… as a float
    expect(ok('1.10')).toBe(110);
    expect(ok('1.230')).toBe(123); // trailing zeros beyond the currency's digits are harmless
    expect(ok('123', 0)).toBe(123);
  });

  it('refuses exponents, NaN, separators and junk', () => {
    expect(problem('1e5')).toMatch(/not a decimal amount/);
    expect(problem('NaN')).toMatch(/not a decimal amount/);
    expect(problem('Infinity')).toMatch(/not a decimal amount/);
    expect(problem('1,2x')).toMatch(/"1,2x" is not a decimal amount/);
    expect(problem('1,000.00')).toMatch(/not a decimal amount/);
    expect(problem('')).toMatch(/not a decimal amount/);
    expect(problem('.5')).toMatch(/not a decimal amount/);
    expect(problem('0x10')).toMatch(/not a decimal amount/);
  });

  it('names an accountant\'s negative, in brackets or with the minus at the end, and the value to write (trial 42b)', () => {
    expect(problem('(28.50)')).toBe('"(28.50)" is not a decimal amount (brackets, an accountant\'s minus sign: write it -28.50)');
    expect(problem('( 28.50 )')).toMatch(/write it -28\.50\)$/);
    expect(problem('28.50-')).toBe('"28.50-" is not a decimal amount (a minus sign at the end: write it -28.50)');
    expect(problem('(1,234.50)')).toMatch(/brackets, an accountant's minus sign \(write it with a leading -\), and a thousands separator: write it without, like 1234\.50\)$/);
    // what it suggests reads as the negative amount
    for (const t of ['(28.50)', '28.50-', '(7)']) expect(ok(/write it (\S+)\)$/.exec(problem(t))![1])).toBe(-ok(t.replace(/[()-]/g, '')));
    // nothing to write it as: no bracket hint
    for (const t of ['()', '(-5)', '--5', '28.5.0-', '(28.50']) expect(problem(t)).toBe(`"${t}" is not a decimal amount (write it like 100.00)`);
  });

  it('refuses more decimal places than the currency has', () => {
    expect(problem('1.234')).toMatch(/more than 2 decimal places/);
    expect(problem('0.001')).toMatch(/more than 2 decimal places/);
    expect(problem('0.5', 0)).toMatch(/more than 0 decimal places/);
  });

  it('reads -0 as plain zero, never negative zero', () => {
    expect(Object.is(ok('-0'), 0)).toBe(true);
    expect(Object.is(ok('-0.00'), 0)).toBe(true);
    expect(formatMoney(ok('-0'), 2)).toBe('0.00');
  });

  it('refuses amounts too large for an exact integer (10^20)', () => {
    expect(problem('100000000000000000000')).toMatch(/too large/);
    expect(problem('10000000000000000.00')).toMatch(/too large/);
    expect(problem('9999999999999.99')).toMatch(/too large an amount \(at most 10000000000.00\)/);
    expect(problem('9007199254740.99')).toMatch(/too large/); // issue 14: 1001 of these passed 2^53 in one balance
    expect(ok('10000000000.00')).toBe(1e12); // AMOUNT_MAX
    expect(problem('10000000000.01')).toMatch(/too large/);
    expect(ok('-10000000000.00')).toBe(-1e12);
  });
});

describe('formatMoney', () => {
  it('prints exactly the currency digits', () => {
    expect(formatMoney(10000, 2)).toBe('100.00');
    expect(formatMoney(5, 2)).toBe('0.05');
    expect(formatMoney(-5, 2)).toBe('-0.05');
    expect(formatMoney(-123456, 2)).toBe('-1234.56');
    expect(formatMoney(0, 2)).toBe('0.00');
    expect(formatMoney(123, 0)).toBe('123');
    expect(formatMoney(1, 3)).toBe('0.001');
  });

  it('round-trips with parseMoney for every safe amount and digit count', () => {
    fc.assert(
      fc.property(fc.integer({ min: -1e12, max: 1e12 }), fc.constantFrom(0, 2, 3), (minor, digits) => {
        const text = formatMoney(minor, digits);
        expect(ok(text, digits)).toBe(minor);
        expect(formatMoney(ok(text, digits), digits)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});

describe('currencies, points and rates', () => {
  it('takes minor-unit digits from Intl', () => {
    expect(currencyDigits('CNY')).toBe(2);
    expect(currencyDigits('JPY')).toBe(0);
    expect(currencyDigits('BHD')).toBe(3);
    expect(() => currencyDigits('yuan')).toThrow(/ISO 4217/);
  });

  it('currencyCodeProblem: ISO 4217 codes pass; an alias or a typo names the code meant', () => {
    for (const ok of ['CNY', 'USD', 'EUR', 'JPY', 'BHD', 'HKD', 'TWD']) expect(currencyCodeProblem(ok)).toBeNull();
    expect(currencyCodeProblem('RMB')).toBe('"RMB" is not an ISO 4217 currency code: did you mean CNY?');
    expect(currencyCodeProblem('CYN')).toMatch(/did you mean .*CNY\?$/); // two neighbours swapped
    expect(currencyCodeProblem('USF')).toMatch(/did you mean .*USD/); // one letter off
    expect(currencyCodeProblem('QQQ')).toBe('"QQQ" is not an ISO 4217 currency code');
  });

  it('reads whole points only', () => {
    expect(parsePoints('500')).toEqual({ ok: true, value: 500 });
    expect(parsePoints('-200', { allowNegative: true })).toEqual({ ok: true, value: -200 });
    expect(parsePoints('-200').ok).toBe(false);
    expect(parsePoints('1.5').ok).toBe(false);
    expect(parsePoints('1e3').ok).toBe(false);
    expect(parsePoints('9007199254740993').ok).toBe(false);
  });

  it('reads rates exactly, refusing NaN and Infinity', () => {
    const r = parseRate('1.5');
    expect(r.ok && r.value.toString()).toBe('1.5');
    const n = parseRate(2);
    expect(n.ok && n.value.toString()).toBe('2');
    expect(parseRate(Number.NaN).ok).toBe(false);
    expect(parseRate(Number.POSITIVE_INFINITY).ok).toBe(false);
    expect(parseRate('1e3').ok).toBe(false);
    expect(parseRate(null).ok).toBe(false);
  });
});

describe('pointsValue and pointsStep (§4.2)', () => {
  it('values points in whole minor units, rounded down', () => {
    expect(pointsValue(5000, '100', 2)).toBe(5000); // 5000 points at 100/yuan = 50.00
    expect(pointsValue(99, '100', 2)).toBe(99);
    expect(pointsValue(15, '1000', 2)).toBe(1); // 15 points = 1.5 fen → 1 fen
    expect(pointsValue(10, '3', 2)).toBe(333); // 3.333… yuan → 3.33
    expect(pointsValue(250, '100', 0)).toBe(2); // JPY: 2.5 yen → 2
    expect(pointsValue(0, '100', 2)).toBe(0);
  });

  it('uses points only in steps that convert to whole minor units', () => {
    expect(pointsStep('100', 2)).toBe(1);
    expect(pointsStep('1000', 2)).toBe(10);
    expect(pointsStep('3', 2)).toBe(3);
    expect(pointsStep('1000', 0)).toBe(1000);
    expect(pointsStep('2.5', 2)).toBe(1);
  });

  it('gives a step whose multiples value exactly and nothing smaller does', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 3000 }), fc.constantFrom(0, 2, 3), fc.integer({ min: 1, max: 50 }), (ppu, digits, k) => {
        const step = pointsStep(ppu, digits);
        const exact = (p: number) => (BigInt(p) * 10n ** BigInt(digits)) % BigInt(ppu) === 0n;
        expect(exact(step * k)).toBe(true);
        for (let p = 1; p < step; p++) expect(exact(p)).toBe(false);
      }),
      { numRuns: 150 },
    );
  });
});

describe('allocateProportionally', () => {
  it('splits by largest remainder so parts add up exactly', () => {
    expect(allocateProportionally(10, [1, 1, 1])).toEqual([4, 3, 3]);
    expect(allocateProportionally(-10, [1, 1, 1])).toEqual([-4, -3, -3]);
    expect(allocateProportionally(100, [30, 70])).toEqual([30, 70]);
    expect(allocateProportionally(5000, [10000, 5000, 5000])).toEqual([2500, 1250, 1250]);
    expect(allocateProportionally(7, [0, 0])).toEqual([7, 0]);
    expect(allocateProportionally(7, [])).toEqual([]);
  });

  it('property: parts sum to the total and each is within 1 of its exact share', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -10_000_000, max: 10_000_000 }),
        fc.array(fc.integer({ min: 0, max: 1_000_000 }), { minLength: 1, maxLength: 12 }).filter((w) => w.some((x) => x > 0)),
        (total, weights) => {
          const parts = allocateProportionally(total, weights);
          expect(parts).toHaveLength(weights.length);
          expect(parts.reduce((a, b) => a + b, 0)).toBe(total);
          const sumW = weights.reduce((a, b) => a + b, 0);
          parts.forEach((p, i) => {
            expect(Number.isInteger(p)).toBe(true);
            const exact = (total * weights[i]) / sumW;
            expect(Math.abs(p - exact)).toBeLessThan(1);
            if (weights[i] === 0) expect(p).toBe(0);
          });
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('allocateCapped', () => {
  it('gives a part no more than its bound and spreads the rest over the others by weight', () => {
    expect(allocateCapped(4, [350, 90, 200], [3, 0, 2])).toEqual([3, 0, 1]);
    expect(allocateCapped(5, [350, 90, 200], [3, 0, 2])).toEqual([3, 0, 2]);
    expect(allocateCapped(2, [150, 50], [1, 1])).toEqual([1, 1]);
    expect(allocateCapped(0, [1, 2], [0, 0])).toEqual([0, 0]);
    expect(() => allocateCapped(3, [1, 1], [1, 1])).toThrow(/within bounds adding up to 2/);
  });

  it('property: parts add up, each within its bound, and equal to allocateProportionally when no bound is reached', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ w: fc.integer({ min: 0, max: 100_000 }), b: fc.integer({ min: 0, max: 50 }) }), { minLength: 1, maxLength: 8 }),
        fc.nat(),
        (parts, seed) => {
          const weights = parts.map((p) => p.w);
          const bounds = parts.map((p) => p.b);
          const cap = bounds.reduce((a, b) => a + b, 0);
          const total = cap === 0 ? 0 : seed % (cap + 1);
          const got = allocateCapped(total, weights, bounds);
          expect(got.reduce((a, b) => a + b, 0)).toBe(total);
          got.forEach((g, i) => expect(g >= 0 && g <= bounds[i]).toBe(true));
          const plain = weights.some((w) => w > 0) ? allocateProportionally(total, weights) : null;
          if (plain && plain.every((p, i) => p <= bounds[i]) && weights.every((w, i) => w === 0 || bounds[i] > 0)) expect(got).toEqual(plain);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
