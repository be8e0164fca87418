// Id checks: printable ASCII skips the regular expressions (an import checks every order and member
// id), and must answer exactly what they answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idLookalikeProblem, idTextProblem, lookalikeCharsProblem, shownName } from '../../src/domain/text.js';
import { parseMoney, quantityHint } from '../../src/domain/money.js';

describe('id text checks', () => {
  it('every printable ASCII character is clean and visible; every other ASCII character is not clean', () => {
    for (let c = 0; c < 0x80; c++) {
      const id = `A${String.fromCharCode(c)}1`;
      const printable = c >= 0x20 && c <= 0x7e;
      if (printable) expect(idTextProblem('order id', id)).toBeNull();
      else expect(idTextProblem('order id', id), `U+${c.toString(16)}`).toMatch(c === 0 ? /NUL/ : /control character/);
      if (printable) expect(idLookalikeProblem('order id', id)).toBeNull();
    }
  });

  it('ids that are not printable ASCII are still refused as before (controls, invisible, not NFC/NFKC)', () => {
    expect(idTextProblem('member id', 'M\u00851')).toMatch(/U\+0085/);
    expect(idTextProblem('member id', 'M\ufffd')).toMatch(/U\+FFFD/);
    expect(idTextProblem('member id', 'M\ud800')).toMatch(/lone surrogate/);
    expect(idLookalikeProblem('member id', 'M\u200b1')).toMatch(/zero-width space/);
    expect(idLookalikeProblem('member id', 'Me\u0301')).toMatch(/NFC/);
    expect(idLookalikeProblem('member id', 'Ｍ1')).toMatch(/compatibility/);
    expect(idLookalikeProblem('member id', 'Müller')).toBeNull();
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 12 }), (id) => {
        const ascii = /^[\x20-\x7e]*$/.test(id);
        if (ascii) {
          expect(idTextProblem('id', id)).toBeNull();
          expect(idLookalikeProblem('id', id)).toBeNull();
        } else if (/[\u0000-\u001f\u007f]/.test(id)) expect(idTextProblem('id', id)).not.toBeNull();
      }),
      { numRuns: 500 },
    );
  });
});

describe('numbers and times that look right on screen (trial 32)', () => {
  it('name the no-break space, Unicode minus or full-width characters in them', () => {
    expect(lookalikeCharsProblem('2026-11-10\u00a009:00')).toBe('it holds a no-break space (U+00A0): retype it in plain ASCII (in a file, replace those characters)');
    expect(lookalikeCharsProblem('\u22125.00')).toBe('it holds a minus sign (U+2212) in place of -: retype it in plain ASCII (in a file, replace those characters)');
    expect(lookalikeCharsProblem('\uff11\uff12.30')).toContain('full-width digits (U+FF10–FF19)');
    expect(lookalikeCharsProblem('2026-11-10 09:00')).toBeNull();
  });

  it('an amount that is not a plain decimal says what it holds', () => {
    const problem = (t: string) => {
      const r = parseMoney(t, 2);
      return r.ok ? null : r.problem;
    };
    expect(problem('1,234.50')).toBe('"1,234.50" is not a decimal amount (a thousands separator: write it without, like 1234.50)');
    expect(problem('1,234')).toBe('"1,234" is not a decimal amount (a comma: write 1234 if it separates thousands, or 1.234 if it is a decimal comma)');
    expect(problem('1 234,50')).toBe('"1 234,50" is not a decimal amount (spaces between thousands and a decimal comma: write it like 1234.50)');
    expect(problem('1.234,50')).toBe('"1.234,50" is not a decimal amount (a decimal comma: write it with a point and no thousands separator, like 1234.50)');
    expect(problem('¥12.30')).toBe('"¥12.30" is not a decimal amount (a currency sign or code: write the number alone, like 100.00)');
    expect(problem('\u22125.00')).toContain('a minus sign (U+2212) in place of -');
    expect(problem('12.3.4')).toBe('"12.3.4" is not a decimal amount (write it like 100.00)');
    expect(parseMoney('-5.00', 2)).toEqual({ ok: true, value: -500 });
  });

  it('a quantity that is not a plain number says what it holds, as an amount does', () => {
    expect(quantityHint('\uff12')).toBe('it holds full-width digits (U+FF10–FF19): retype it in plain ASCII (in a file, replace those characters)');
    expect(quantityHint('1,5')).toBe('a decimal comma: write it with a point and no thousands separator, like 1.5');
    expect(quantityHint('1,000')).toBe('a comma: write 1000 if it separates thousands, or 1.000 if it is a decimal comma');
    expect(quantityHint('two')).toBe('write a number of units, like 2 or 1.5');
  });
});

describe('shownName', () => {
  it('quotes a name with what prints like another character escaped, and leaves other text as it is', () => {
    expect(shownName('Green\u00a0Tea')).toBe('"Green\\u00a0Tea"');
    expect(shownName('TEA\u2011001')).toBe('"TEA\\u2011001"');
    expect(shownName('zero\u200bwidth')).toBe('"zero\\u200bwidth"');
    expect(shownName('茶叶 Tea')).toBe('"茶叶 Tea"');
    expect(shownName('ＴＥＡ')).toBe('"ＴＥＡ"');
  });
});
