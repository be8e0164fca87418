// Cells a spreadsheet would run as formulas: every CSV the tool writes puts a quote before one, and the
// importers that read such files take that one quote off again, so an export imports back unchanged.

/** The characters that make a spreadsheet run a cell as a formula when it starts with one: = + - @, tab, CR. */
export const FORMULA_START = '=+-@\t\r';

const NUMBER_RE = /^-?\d+(\.\d+)?$/;
/** A phone number in international form (+8613800138000, +86 138 0013 8000): digits only, nothing to run. */
const PHONE_RE = /^\+\d[\d ]*$/;

/** Whether a text cell starts like a formula: one of FORMULA_START first, and not a plain number (-5, -0.5) or phone number (+86…). */
export function looksLikeFormula(s: string): boolean {
  return s.length > 0 && FORMULA_START.includes(s[0]) && !NUMBER_RE.test(s) && !PHONE_RE.test(s);
}

/** A cell as an exported CSV writes it: a formula-like text gets a leading quote. */
export function guardFormula(s: string): string {
  return looksLikeFormula(s) ? `'${s}` : s;
}

/**
 * A cell of a CSV read by an import: the one quote guardFormula puts before a formula character comes off
 * (`'=SUM(A1)` → `=SUM(A1)`, `''=x` → `'=x`); a quote before anything else stays (`'hello`).
 */
export function unguardFormula(s: string): string {
  return s.length > 1 && s.charCodeAt(0) === 39 && FORMULA_START.includes(s[1]) ? s.slice(1) : s;
}
