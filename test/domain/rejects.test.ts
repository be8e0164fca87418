// The rejects file's cells: safe to open in a spreadsheet, and read back exactly (issue 20 item 7).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isRejectsHeader, rejectsCell, rejectsHeader, rejectsRow, unquoteRejectsCell } from '../../src/domain/rejects.js';

describe('rejects file cells', () => {
  it('a cell written and read back is the cell; none written starts a formula unless it is a number or a phone number', () => {
    const cell = fc.oneof(fc.string(), fc.constantFrom('=1+1', "'=x", "'", "''", '-5', '-5.5', '+86 138', '+1+2', '+ 1', '@A', '\tx', '-', "'abc", 'abc'));
    fc.assert(
      fc.property(cell, (s) => {
        const w = rejectsCell(s);
        expect(unquoteRejectsCell(w)).toBe(s);
        if (/^[=+\-@\t\r]/.test(w)) expect(w).toMatch(/^-?\d+(\.\d+)?$|^\+\d[\d ]*$/);
      }),
      { numRuns: 2000 },
    );
  });

  it('a rejects file of a rejects file has one _line and _reason', () => {
    const h = ['order_id', 'amount'];
    expect(rejectsHeader(h)).toEqual(['_line', '_reason', 'order_id', 'amount']);
    expect(isRejectsHeader(rejectsHeader(h))).toBe(true);
    expect(rejectsHeader(rejectsHeader(h))).toEqual(rejectsHeader(h));
    expect(isRejectsHeader(h)).toBe(false);
    expect(rejectsRow(3, '=bad', ['A', '-1.00', 'extra'])).toEqual(['3', "'=bad", 'A', '-1.00', 'extra']);
  });
});
