// §4.5 refunds: an order's earned points spread over its lines by their cash (the points and cash of
// each line come from split.ts's splitLines), what a refund of some units returns (exact remainders on
// the last units), and which lots the returned points go back to. Pure.
import { type Minor, type Points, allocateProportionally } from './money.js';

export interface LineShare {
  points: Points;
  cash: Minor;
  earned: Points;
}

/**
 * §4.5: the points an order earned spread over its lines in proportion to each line's cash (largest
 * remainder, adding up exactly): a line paid only in points earns nothing.
 */
export function spreadEarned(earned: Points, lineCash: readonly Minor[]): Points[] {
  return allocateProportionally(earned, lineCash);
}

export interface RefundableLine {
  lineNo: number;
  sku: string;
  quantity: number;
  share: LineShare; // the line's part of the order
  refundedQty: number;
  refunded: LineShare; // already returned by earlier refunds
}

export interface RefundRequestLine {
  sku: string;
  /** Units to refund; undefined = all that are left of the line. */
  quantity?: number;
}

export interface RefundLinePlan extends LineShare {
  lineNo: number;
  sku: string;
  quantity: number;
}

export type RefundPlan =
  | { ok: true; lines: RefundLinePlan[]; totals: LineShare; complete: boolean }
  | { ok: false; code: 'OVER_REFUND' | 'UNKNOWN_LINE' | 'NOTHING_TO_REFUND'; message: string };

/**
 * What refunding `request` (null = everything left) returns. A line's cumulative refund after r of q units
 * is floor(share × r / q), so the last unit returns the exact remainder and a fully refunded order nets to zero.
 */
export function planRefund(lines: readonly RefundableLine[], request: readonly RefundRequestLine[] | null): RefundPlan {
  const want = new Map<number, number>(); // lineNo → units
  if (request === null) {
    for (const l of lines) if (l.quantity > l.refundedQty) want.set(l.lineNo, l.quantity - l.refundedQty);
    if (want.size === 0) return { ok: false, code: 'NOTHING_TO_REFUND', message: 'every line of this order is already refunded' };
  } else {
    for (const r of request) {
      const candidates = lines.filter((l) => l.sku === r.sku);
      if (candidates.length === 0) return { ok: false, code: 'UNKNOWN_LINE', message: `the order has no line for ${r.sku}` };
      const left = candidates.reduce((a, l) => a + l.quantity - l.refundedQty - (want.get(l.lineNo) ?? 0), 0);
      let qty = r.quantity ?? left;
      if (qty <= 0 && r.quantity === undefined) {
        return { ok: false, code: 'OVER_REFUND', message: `${r.sku} is already fully refunded` };
      }
      if (qty > left) {
        // (the SKU named more than once: what all of its requests ask, against what was left before them)
        const asked = candidates.reduce((a, l) => a + (want.get(l.lineNo) ?? 0), qty);
        const before = candidates.reduce((a, l) => a + l.quantity - l.refundedQty, 0);
        return { ok: false, code: 'OVER_REFUND', message: `cannot refund ${asked} × ${r.sku}: ${before} left to refund` };
      }
      for (const l of candidates) {
        if (qty === 0) break;
        const free = l.quantity - l.refundedQty - (want.get(l.lineNo) ?? 0);
        const t = Math.min(free, qty);
        if (t > 0) want.set(l.lineNo, (want.get(l.lineNo) ?? 0) + t);
        qty -= t;
      }
    }
  }
  const out: RefundLinePlan[] = [];
  const totals: LineShare = { points: 0, cash: 0, earned: 0 };
  for (const l of lines) {
    const q = want.get(l.lineNo);
    if (!q) continue;
    const after = l.refundedQty + q;
    const part = (whole: number, done: number) => cumulative(whole, after, l.quantity) - done;
    const p: RefundLinePlan = {
      lineNo: l.lineNo,
      sku: l.sku,
      quantity: q,
      points: part(l.share.points, l.refunded.points),
      cash: part(l.share.cash, l.refunded.cash),
      earned: part(l.share.earned, l.refunded.earned),
    };
    totals.points += p.points;
    totals.cash += p.cash;
    totals.earned += p.earned;
    out.push(p);
  }
  const complete = lines.every((l) => l.refundedQty + (want.get(l.lineNo) ?? 0) === l.quantity);
  return { ok: true, lines: out, totals, complete };
}

/**
 * A line's cumulative refund of `whole` (its points, cash or earned share) once `units` of its `of` units
 * are refunded: floor(whole × units / of), the exact whole on the last unit. `rules simulate` takes back a
 * refund's share of what each line would have earned under a draft with it.
 */
export function cumulative(whole: number, units: number, of: number): number {
  if (units >= of) return whole;
  return Number((BigInt(whole) * BigInt(units)) / BigInt(of));
}

export interface TakenLot {
  lotId: number;
  taken: Points; // points the order took from the lot
  returned: Points; // already given back by earlier refunds
}

/**
 * Which lots refunded points go back to: the lots the order took them from, the last taken first
 * (undoing the spend in reverse), never more than was taken from each.
 */
export function returnToLots(takes: readonly TakenLot[], points: Points): { lotId: number; points: Points }[] {
  const out: { lotId: number; points: Points }[] = [];
  let left = points;
  for (let i = takes.length - 1; i >= 0 && left > 0; i--) {
    const t = takes[i];
    const room = t.taken - t.returned;
    if (room <= 0) continue;
    const n = Math.min(room, left);
    out.push({ lotId: t.lotId, points: n });
    left -= n;
  }
  if (left > 0) throw new Error(`cannot return ${points} points: the order took only ${points - left} not yet returned`);
  return out;
}

/**
 * Points given back (a refund, a released hold) to a lot whose purchase was voided since: that void took
 * what the lot no longer had from the member's other lots (`targets`, per voided lot, latest expiresOn
 * first), so the points go back to those, each up to what the void took from it and its room (never
 * above its points); only what they cannot take stays in the voided lot. The member then holds what a
 * ledger that never saw the voided purchase would, in lots of the same expiresOn.
 */
export function redirectFromVoided(
  moves: readonly { lotId: number; points: Points }[],
  targets: ReadonlyMap<number, readonly { lotId: number; took: Points; room: Points }[]>,
): { lotId: number; points: Points }[] {
  if (!targets.size) return moves.slice();
  const room = new Map<number, number>();
  const took = new Map<string, number>();
  const out: { lotId: number; points: Points }[] = [];
  for (const m of moves) {
    let left = m.points;
    for (const t of targets.get(m.lotId) ?? []) {
      if (left <= 0) break;
      const key = `${m.lotId}:${t.lotId}`;
      const n = Math.min(left, t.took - (took.get(key) ?? 0), t.room - (room.get(t.lotId) ?? 0));
      if (n <= 0) continue;
      out.push({ lotId: t.lotId, points: n });
      took.set(key, (took.get(key) ?? 0) + n);
      room.set(t.lotId, (room.get(t.lotId) ?? 0) + n);
      left -= n;
    }
    if (left > 0) out.push({ lotId: m.lotId, points: left });
  }
  return out;
}

/**
 * A member in debt gets refunded points as any credit (SPEC §4.6): they repay the debt first, and only the
 * rest goes back into lots. The points that repay it are those returnToLots would have put back last (the
 * first the order took, the earliest to expire), so the lots that get points back are the latest-expiring.
 */
export function repayBeforeLots(back: readonly { lotId: number; points: Points }[], debt: Points): { toLots: { lotId: number; points: Points }[]; debtRepaid: Points; cut: { lotId: number; points: Points }[] } {
  const total = back.reduce((s, b) => s + b.points, 0);
  const debtRepaid = Math.max(0, Math.min(debt, total));
  let left = debtRepaid;
  const toLots: { lotId: number; points: Points }[] = [];
  const cut: { lotId: number; points: Points }[] = [];
  for (let i = back.length - 1; i >= 0; i--) {
    const n = Math.min(left, back[i].points);
    left -= n;
    if (n > 0) cut.push({ lotId: back[i].lotId, points: n });
    if (back[i].points - n > 0) toLots.unshift({ lotId: back[i].lotId, points: back[i].points - n });
  }
  return { toLots, debtRepaid, cut };
}

/**
 * A refund's points for a member in debt, once redirectFromVoided has sent each part to its lot: the debt is
 * repaid first from the parts that would go back into lots of voided purchases (`voided`: the void's debt is
 * what it could not take from them because the order had spent them, so those points settle it), then as
 * repayBeforeLots does, from the end (the earliest to expire). The rest goes back into lots: a welcome lot
 * the order also spent gets its own points back, as in a ledger that never saw the voided purchase.
 */
export function repayVoidedFirst(moves: readonly { lotId: number; points: Points }[], debt: Points, voided: ReadonlySet<number>): { lotId: number; points: Points }[] {
  const keep = moves.map((m) => m.points);
  let left = Math.max(0, Math.min(debt, keep.reduce((a, b) => a + b, 0)));
  for (const first of [true, false]) {
    for (let i = moves.length - 1; i >= 0 && left > 0; i--) {
      if (first && !voided.has(moves[i].lotId)) continue;
      const n = Math.min(left, keep[i]);
      keep[i] -= n;
      left -= n;
    }
  }
  return moves.map((m, i) => ({ lotId: m.lotId, points: keep[i] })).filter((m) => m.points > 0);
}

/**
 * What releasing holds that ran out will repay of a member's debt (releaseHold: each hold in turn, as
 * repayBeforeLots cuts its points), for reads before the release is written: the debt repaid and, per lot,
 * the points that then do not go back into it.
 */
export function repaidOnRelease(debt: Points, holds: readonly (readonly { lotId: number; points: Points }[])[]): { debtRepaid: Points; cuts: Map<number, Points> } {
  const cuts = new Map<number, Points>();
  let left = debt;
  for (const lots of holds) {
    const { debtRepaid, cut } = repayBeforeLots([...lots].reverse(), left);
    left -= debtRepaid;
    for (const c of cut) cuts.set(c.lotId, (cuts.get(c.lotId) ?? 0) + c.points);
  }
  return { debtRepaid: debt - left, cuts };
}
