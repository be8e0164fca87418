// Id checks: printable ASCII skips the regular expressions (an import checks every order and member
// id), and must answer exactly what they answer.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { idLookalikeProblem, idTextProblem } from '../../src/domain/text.js';

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
