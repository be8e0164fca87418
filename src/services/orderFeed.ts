// The staged orders of an import, whole and in time order, for its accruing phase: the sorted stream
// of staged groups (StagedOrders) unpacked and assembled into orders, content hash included.
import { type FileFormat, type OrderLine, buildOrder, orderContentHash } from '../domain/purchases.js';
import type { StageRow } from '../store/purchases.js';

// A staged group's lines are packed in one string: line, amount, sku, category, quantity, unitPrice
// separated by US; lines by RS (packLine and joinLines write it, unpack reads it).
export const US = '\u001f';
export const RS = '\u001e';

const clean = (s: string | null): string => (s === null ? '' : s.indexOf(US) >= 0 || s.indexOf(RS) >= 0 ? s.replace(/[\u001e\u001f]/g, ' ') : s);

/** One line of a staged group (no separator survives in a value). */
export function packLine(line: number, row: { amount: number; sku: string | null; category: string | null; quantity: string | null; unitPrice: string | null }): string {
  return `${line}${US}${row.amount}${US}${clean(row.sku)}${US}${clean(row.category)}${US}${row.quantity ?? ''}${US}${row.unitPrice ?? ''}`;
}

/** A staged group's packed lines. */
export const joinLines = (lines: readonly string[]): string => lines.join(RS);

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

function unpack(memberId: string, at: number, packed: string, into: OrderLine[]): void {
  for (const part of packed.split(RS)) {
    const f = part.split(US);
    into.push({ line: Number(f[0]), memberId, at, amount: Number(f[1]), sku: f[2] || null, category: f[3] || null, quantity: f[4] || null, unitPrice: f[5] || null });
  }
}

/** Assembles one order from its staged groups (pure). */
export function feedOrder(rows: readonly StageRow[], format: FileFormat): FedOrder {
  const orderId = rows[0][0];
  const lines: OrderLine[] = [];
  for (const r of rows) unpack(r[1], r[2], r[4], lines);
  if (rows.length > 1) lines.sort((a, b) => a.line - b.line);
  const lineNos = lines.map((l) => l.line);
  const badLine = rows[0][5];
  if (badLine !== null && badLine !== undefined) {
    return { ok: false, orderId, groups: rows.length, lines: lineNos, reason: `order ${orderId}: another row of this order was rejected (line ${badLine}); fix it and import the whole order again` };
  }
  const built = buildOrder(orderId, lines, format);
  if ('problem' in built) return { ok: false, orderId, groups: rows.length, lines: lineNos, reason: built.problem };
  const { order, repeats } = built;
  let repeatDuplicates = 0;
  const repeatConflicts: number[] = [];
  for (const r of repeats) {
    if (orderContentHash(r.memberId, [r]) === order.contentHash) repeatDuplicates++;
    else repeatConflicts.push(r.line);
  }
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
export function* feedOrders(rows: Iterable<StageRow>, format: FileFormat): Generator<FedOrder> {
  let group: StageRow[] = [];
  for (const r of rows) {
    if (group.length && r[0] !== group[0][0]) {
      yield feedOrder(group, format);
      group = [];
    }
    group.push(r);
  }
  if (group.length) yield feedOrder(group, format);
}
