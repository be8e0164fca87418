// `review list|approve|reject`: imported orders that wait unaccrued for a person's decision.
import { NotFoundError, RefusedError, UsageError } from '../errors.js';
import { POINTS_MAX, formatMoney } from '../domain/money.js';
import { shownInstant } from '../domain/time.js';
import { purchases } from '../store/purchases.js';
import { type ReviewRow, reviewQueue } from '../store/review.js';
import { members } from '../store/members.js';
import { type Ctx, type Ledger, withLedger } from './ledger.js';
import { AccrualEngine } from './importPurchases.js';
import { recordAudit } from './points.js';
import { type AwardDecision, type AwardReviewItem, decideAward, findAwardInReview, reviewedAwards } from './activities.js';

export interface ReviewItem {
  id: number;
  source: string;
  orderId: string;
  memberId: string;
  purchasedAt: string;
  kind: 'purchase' | 'return';
  amount: string;
  lines: number;
  reason: string;
  status: 'pending' | 'approved' | 'rejected';
  createdAt: string;
  decidedAt: string | null;
  decidedBy: string | null;
  note: string | null;
  points: number | null;
}

function view(l: Ledger, r: ReviewRow): ReviewItem {
  return {
    id: r.id,
    source: r.source,
    orderId: r.order_id,
    memberId: r.member_id,
    purchasedAt: r.purchased_at,
    kind: r.kind,
    amount: formatMoney(r.amount, l.digits),
    lines: (JSON.parse(r.lines) as unknown[]).length,
    reason: r.reason,
    status: r.status,
    createdAt: r.created_at,
    decidedAt: r.decided_at,
    decidedBy: r.decided_by,
    note: r.note,
    points: r.points,
  };
}

export async function listReview(ctx: Ctx, f: { status?: 'pending' | 'approved' | 'rejected' | 'all'; member?: string; limit?: number; offset?: number }): Promise<(ReviewItem | AwardReviewItem)[]> {
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      if (f.member && !l.store.get(members).exists(f.member)) throw new NotFoundError('member', f.member, 'list members with: pointsmall member list');
      const orders = l.store.get(reviewQueue).list({ status: f.status ?? 'pending', memberId: f.member }).map((r) => view(l, r));
      // --- activities (issue 18): a frozen member's awards wait here too, after the orders ---
      const awards = reviewedAwards(l, { ...f, limit: undefined });
      const from = f.offset ?? 0;
      return [...orders, ...awards].slice(from, f.limit === undefined ? undefined : from + f.limit);
    }),
  );
}

/** A review item by its number, or by order id when exactly one pending item has it. */
function find(l: Ledger, ref: string): ReviewRow {
  const q = l.store.get(reviewQueue);
  if (/^\d+$/.test(ref)) {
    const r = q.get(Number(ref));
    if (r) return r;
  }
  const byOrder = q.byOrder(ref);
  const pending = byOrder.filter((r) => r.status === 'pending');
  if (pending.length === 1) return pending[0];
  if (pending.length > 1) throw new UsageError(`order ${ref} waits in review from ${pending.length} sources`, `name the review item by number: ${pending.map((r) => r.id).join(', ')}`);
  if (byOrder.length) return byOrder[byOrder.length - 1];
  throw new NotFoundError('review item', ref, 'list waiting orders with: pointsmall review list');
}

// --- activities (issue 18) ---
/** An award named by `A<n>`, or by its ref when no imported order waits under that id. */
function findAward(l: Ledger, ref: string) {
  if (/^A\d+$/.test(ref)) {
    const a = findAwardInReview(l, ref);
    if (!a) throw new NotFoundError('review item', ref, 'list waiting items with: pointsmall review list');
    return a;
  }
  if (/^\d+$/.test(ref) && l.store.get(reviewQueue).get(Number(ref))) return undefined;
  if (l.store.get(reviewQueue).byOrder(ref).length) return undefined;
  return findAwardInReview(l, ref);
}
// --- end activities ---

function requirePending(r: ReviewRow, zone: string): void {
  if (r.status !== 'pending') {
    throw new RefusedError('ALREADY_DECIDED', `review item ${r.id} (order ${r.order_id}) was already ${r.status} by ${r.decided_by} at ${shownInstant(r.decided_at, zone)}`);
  }
}

export interface ReviewDecision extends ReviewItem {
  capped: number;
  balance: number;
}

/** Accrues a waiting order by the rules in force at its purchase time. */
export async function approveReview(ctx: Ctx, ref: string, note?: string): Promise<ReviewDecision | AwardDecision> {
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const award = findAward(l, ref);
      if (award) return decideAward(l, award, true, note);
      const r = find(l, ref);
      requirePending(r, l.zone);
      const p = l.store.get(purchases);
      const facts = p.memberFacts(r.member_id);
      if (!facts) throw new NotFoundError('member', r.member_id);
      if (facts.status === 'frozen') {
        throw new RefusedError('MEMBER_FROZEN', `member ${r.member_id} is frozen; order ${r.order_id} stays in review`, `unfreeze first (pointsmall member unfreeze ${r.member_id}), or reject it with pointsmall review reject ${r.id}`);
      }
      const lines = (JSON.parse(r.lines) as [number, string | null, string | null][]).map(([amount, sku, category]) => ({ amount, sku, category }));
      const at = Date.parse(r.purchased_at);
      const out = new AccrualEngine(l).accrue({ source: r.source, orderId: r.order_id, memberId: r.member_id, at, amount: r.amount, lines }, facts);
      if (out.kind === 'too-large') {
        throw new RefusedError('POINTS_CEILING', `order ${r.order_id} would earn ${out.points} points, past the ceiling of ${POINTS_MAX} points for an order or a member's balance`, `reject it with pointsmall review reject ${r.id}`);
      }
      const signed = out.kind === 'return' ? -out.points : out.points;
      if (!l.store.get(reviewQueue).decide(r.id, 'approved', l.nowIso, l.operator, note ?? null, signed, out.entryId)) throw new RefusedError('ALREADY_DECIDED', `review item ${r.id} was decided meanwhile`);
      p.settle(r.source, r.order_id, 'accrued', signed, out.capped, out.rulesVersion, out.entryId);
      recordAudit(l, 'review.approve', `${r.source}:${r.order_id}`, { id: r.id, points: signed, capped: out.capped, note });
      const m = l.store.get(members).get(r.member_id)!;
      return { ...view(l, l.store.get(reviewQueue).get(r.id)!), capped: out.capped, balance: m.balance };
    }),
  );
}

/** Rejects a waiting order: it never accrues, and a re-import of it counts as a duplicate. */
export async function rejectReview(ctx: Ctx, ref: string, note?: string): Promise<ReviewDecision | AwardDecision> {
  return withLedger(ctx, (l) =>
    l.store.write(() => {
      const award = findAward(l, ref);
      if (award) return decideAward(l, award, false, note);
      const r = find(l, ref);
      requirePending(r, l.zone);
      if (!l.store.get(reviewQueue).decide(r.id, 'rejected', l.nowIso, l.operator, note ?? null, 0, null)) throw new RefusedError('ALREADY_DECIDED', `review item ${r.id} was decided meanwhile`);
      l.store.get(purchases).settle(r.source, r.order_id, 'rejected', 0, 0, null, null);
      recordAudit(l, 'review.reject', `${r.source}:${r.order_id}`, { id: r.id, note });
      const m = l.store.get(members).get(r.member_id);
      return { ...view(l, l.store.get(reviewQueue).get(r.id)!), capped: 0, balance: m?.balance ?? 0 };
    }),
  );
}
