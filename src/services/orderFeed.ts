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
  if (rows.length > 1) {
    // groups come by first line, but two groups of one stretch (another member or time) can interleave
    let sorted = true;
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
    own: order.lines,
    firstLine: order.lines[0].line,
    lines: lineNos,
    repeatDuplicates,
    repeatConflicts,
  };
}

/** The staged orders one by one, from the staged groups in (order time, order id) order. */
export function* feedOrders(rows: Iterable<StageRow>, format: FileFormat, digits = 2): Generator<FedOrder> {
  let group: StageRow[] = [];
  for (const r of rows) {
    if (group.length && r[0] !== group[0][0]) {
      yield feedOrder(group, format, digits);
      group = [];
    }
    group.push(r);
  }
  if (group.length) yield feedOrder(group, format, digits);
}
