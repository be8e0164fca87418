// The staged orders of an import, whole and in time order, for its accruing phase: the sorted stream
// of staged groups (StagedOrders) unpacked and assembled into orders, content hash included.
import { type FileFormat, type OrderLine, buildOrder, hashPartOf } from '../domain/purchases.js';
import type { StageRow } from '../store/purchases.js';

// A staged group's lines are packed in one string: per line six values (line, amount, sku, category,
// quantity, unitPrice), every value of every line separated by US (packLine and joinLines write it,
// unpack reads it with one split). No value contains US or RS.
export const US = '\u001f';
export const RS = '\u001e';
const FIELDS = 6;

const clean = (s: string | null): string => (s === null ? '' : s.indexOf(US) >= 0 || s.indexOf(RS) >= 0 ? s.replace(/[\u001e\u001f]/g, ' ') : s);

/** One line of a staged group. */
export function packLine(line: number, row: { amount: number; sku: string | null; category: string | null; quantity: string | null; unitPrice: string | null }): string {
  return `${line}${US}${row.amount}${US}${clean(row.sku)}${US}${clean(row.category)}${US}${clean(row.quantity)}${US}${clean(row.unitPrice)}`;
}

/** A staged group's packed lines. */
export const joinLines = (lines: readonly string[]): string => lines.join(US);

/** One order as the accruing phase needs it; `lines` are the file lines of all its rows (to reject it whole). */
export type FedOrder =
  | { ok: false; orderId: string; groups: number; lines: number[]; reason: string }
  | {
      ok: true;
      groups: number;
      orderId: string;
      memberId: string;
      at: number;
      amount: number;
      contentHash: string;
      /** Its own lines in file order (an order-level file: the first row). */
      own: readonly OrderLine[];
      /**
       * The same lines packed as staged (six values a line, packLine), which the plan stores as they are:
       * the staged text itself when it holds exactly the own lines in order, else packed from them.
       */
      packed: string;
      firstLine: number;
      lines: number[];
      /** Further rows of an order-level file: how many repeat it exactly, and the lines that differ. */
      repeatDuplicates: number;
      repeatConflicts: number[];
    };

/**
 * A group's lines, each with its share of the content hash (made from the packed values as they are:
 * the same text, without turning them into values and back).
 */
function unpack(memberId: string, at: number, packed: string, lines: OrderLine[], parts: string[]): void {
  const f = packed.split(US);
  for (let i = 0; i + FIELDS <= f.length; i += FIELDS) {
    const sku = f[i + 2];
    const category = f[i + 3];
    const quantity = f[i + 4];
    const unitPrice = f[i + 5];
    lines.push({ line: +f[i], memberId, at, amount: +f[i + 1], sku: sku || null, category: category || null, quantity: quantity || null, unitPrice: unitPrice || null });
    parts.push(hashPartOf(at, sku, category, quantity, unitPrice, f[i + 1]));
  }
}

/** Assembles one order from its staged groups (pure). */
export function feedOrder(rows: readonly StageRow[], format: FileFormat, digits = 2): FedOrder {
  const orderId = rows[0][0];
  let lines: OrderLine[] = [];
  let parts: string[] = [];
  for (const r of rows) unpack(r[1], r[2], r[4], lines, parts);
  let sorted = true;
  if (rows.length > 1) {
    // groups come by first line, but two groups of one stretch (another member or time) can interleave
    for (let i = 1; i < lines.length && sorted; i++) sorted = lines[i - 1].line < lines[i].line;
    if (!sorted) {
      const order = lines.map((_, i) => i).sort((a, b) => lines[a].line - lines[b].line);
      lines = order.map((i) => lines[i]);
      parts = order.map((i) => parts[i]);
    }
  }
  const lineNos = lines.map((l) => l.line);
  const badLine = rows[0][5];
  if (badLine !== null && badLine !== undefined) {
    return { ok: false, orderId, groups: rows.length, lines: lineNos, reason: `order ${orderId}: another row of this order was rejected (line ${badLine}); fix it and import the whole order again` };
  }
  const built = buildOrder(orderId, lines, format, parts, digits);
  if ('problem' in built) return { ok: false, orderId, groups: rows.length, lines: lineNos, reason: built.problem };
  const { order, repeats, repeatParts, ownPart } = built;
  const own = order.lines;
  // The staged text is the order's own lines when they came in file order, are all of them (a line-level
  // file, or one row) and kept their amounts (buildOrder rounds an order of finer money once, which may
  // move a line's amount by a minor unit: its lines are packed again then).
  let same = sorted && own.length === lines.length;
  for (let i = 0; i < own.length && same; i++) same = own[i] === lines[i];
  const packed = !same ? own.map((x) => packLine(x.line, x)).join(US) : rows.length === 1 ? rows[0][4] : rows.map((r) => r[4]).join(US);
  let repeatDuplicates = 0;
  const repeatConflicts: number[] = [];
  // one member (buildOrder checked), so a repeat has the order's hash exactly when it has its part
  repeats.forEach((r, i) => {
    if (repeatParts[i] === ownPart) repeatDuplicates++;
    else repeatConflicts.push(r.line);
  });
  return {
    ok: true,
    groups: rows.length,
    orderId,
    memberId: order.memberId,
    at: order.at,
    amount: order.amount,
    contentHash: order.contentHash,
    own,
    packed,
    firstLine: own[0].line,
    lines: lineNos,
    repeatDuplicates,
    repeatConflicts,
  };
}

/**
 * The most lines one order may have (README "Limits"). Far more is what a wrong mapping gives (every
 * row of a country, a date or a till as one order): such an order is rejected whole, with its lines
 * dropped as they come, so memory stays bounded by a staged group, not by the order.
 */
export const MAX_ORDER_LINES = 10_000;
/** Fewest characters a packed line takes (a line number, an amount, five separators); below MAX_ORDER_LINES of them no count is needed. */
const MIN_LINE_CHARS = 8;

/** Lines in a group's packed text: six values each, all separated by US. */
function countLines(packed: string): number {
  let us = 0;
  for (let i = packed.indexOf(US); i >= 0; i = packed.indexOf(US, i + 1)) us++;
  return (us + 1) / FIELDS;
}

/** The file line numbers of a group's packed lines (the first value of each line). */
export function lineNumbers(packed: string, into: number[]): void {
  const f = packed.split(US);
  for (let i = 0; i + FIELDS <= f.length; i += FIELDS) into.push(+f[i]);
}

function tooManyLines(orderId: string, groups: number, lines: number[]): FedOrder {
  lines.sort((a, b) => a - b);
  return {
    ok: false,
    orderId,
    groups,
    lines,
    reason: `order ${orderId} has ${lines.length} lines, more than ${MAX_ORDER_LINES}: is order_id mapped to the right column (--map order_id=…)? An invoice or receipt number, not a country, date or till`,
  };
}

/** The staged orders one by one, from the staged groups in (order time, order id) order. */
export function* feedOrders(rows: Iterable<StageRow>, format: FileFormat, digits = 2): Generator<FedOrder> {
  let group: StageRow[] = [];
  // Characters of the order's packed lines (one add per group); past MAX_ORDER_LINES × MIN_LINE_CHARS
  // its lines are counted, and past MAX_ORDER_LINES only their line numbers are kept.
  let chars = 0;
  let counted = -1;
  let over: number[] | null = null;
  let groups = 0;
  const done = (): FedOrder => (over ? tooManyLines(group[0][0], groups, over) : feedOrder(group, format, digits));
  for (const r of rows) {
    if (group.length && r[0] !== group[0][0]) {
      yield done();
      group = [];
      chars = groups = 0;
      counted = -1;
      over = null;
    }
    groups++;
    if (over) {
      lineNumbers(r[4], over);
      continue;
    }
    group.push(r);
    chars += r[4].length;
    if (chars > MAX_ORDER_LINES * MIN_LINE_CHARS) {
      counted = counted < 0 ? group.reduce((n, g) => n + countLines(g[4]), 0) : counted + countLines(r[4]);
      if (counted > MAX_ORDER_LINES) {
        over = [];
        for (const g of group) lineNumbers(g[4], over);
        group = [group[0]];
      }
    }
  }
  if (group.length) yield done();
}
