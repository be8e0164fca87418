// The rejects file of an import, as pure functions (the importers and their readers share them).
//
// A rejects file is the input's own CSV with two columns in front: `_line` (the row's line in the
// file imported) and `_reason`. Every field of the row follows as it was read, extra ones included,
// so the file imports again once its bad cells are fixed: every importer ignores columns it does not
// know by name, and an import of a rejects file that rejects rows again writes fresh `_line` and
// `_reason` columns instead of adding two more. A cell a spreadsheet would run as a formula (= + - @,
// tab, CR) gets a leading quote, as in every CSV the tool writes, and so does a cell starting with a
// quote; reading a rejects file (its header starts `_line,_reason`) takes that one quote off again.

import { FORMULA_START, looksLikeFormula } from './formulaCells.js';

/** The first rejected rows an import names in its result (for the screen: FILE:LINE: reason). */
export const FIRST_REJECTS = 5;
export interface RejectSample {
  line: number;
  reason: string;
}

/** The columns a rejects file puts before the input's own. */
export const REJECTS_COLUMNS = ['_line', '_reason'] as const;

/** Whether a header is a rejects file's: it starts with `_line,_reason`. */
export function isRejectsHeader(header: readonly string[]): boolean {
  return header.length >= 2 && header[0].trim() === REJECTS_COLUMNS[0] && header[1].trim() === REJECTS_COLUMNS[1];
}

/** A cell as a rejects file writes it: a formula-like text (looksLikeFormula), or one starting with a quote, gets a leading quote. */
export function rejectsCell(s: string): string {
  return looksLikeFormula(s) || s.charCodeAt(0) === 39 ? `'${s}` : s;
}
/** A rejects file's cell as it was before rejectsCell. */
export function unquoteRejectsCell(s: string): string {
  return s.length > 1 && s.charCodeAt(0) === 39 && (FORMULA_START.includes(s[1]) || s[1] === "'") ? s.slice(1) : s;
}

/**
 * A rejects file's header for an input with this header: `_line,_reason`, then the input's columns
 * (an input that is a rejects file itself keeps its columns after its own `_line,_reason`).
 */
export function rejectsHeader(header: readonly string[]): string[] {
  return [...REJECTS_COLUMNS, ...(isRejectsHeader(header) ? header.slice(2) : header)];
}

/** One row of a rejects file: its line, its reason, then the row's own fields (unquoted, without any _line and _reason of its own). */
export function rejectsRow(line: number, reason: string, own: readonly string[]): string[] {
  return [String(line), rejectsCell(reason), ...own.map(rejectsCell)];
}

/** The longest reason a rejects file, the summary and messages carry (a 300 KB member id is named by its start and end). */
export const REASON_MAX = 1000;

/** A reject's reason cut to REASON_MAX characters: its start and end, and how much was left out between. */
export function capReason(reason: string): string {
  const chars = [...reason];
  if (chars.length <= REASON_MAX) return reason;
  const cut = chars.length - 800;
  return `${chars.slice(0, 600).join('')} … (${cut} characters left out) … ${chars.slice(-200).join('')}`;
}
