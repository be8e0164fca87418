// ledger verify, coupons against the orders that issued and used them: a coupon is money (it discounts a
// later checkout), so its owner, count, value, expiry and status are recomputed from what verify proves
// elsewhere (orders' holds and redemptions against the journal) and from the catalog's recorded changes.
import { couponDiscount } from '../domain/split.js';
import { couponTerms } from '../domain/coupons.js';
import { parseMoney } from '../domain/money.js';
import { addDays, localDate } from '../domain/time.js';
import type { CouponFacts, VerifyQueries } from '../store/verify.js';
import { Problems } from './verifyBooks.js';

interface Terms {
  value: number | null;
  percent: string | null;
  days: number;
}

type TermsAt = { terms: Terms } | { unknown: string };

const ISSUING = new Set(['paid', 'partially_refunded', 'refunded']);
/** Orders that hold or used a coupon; a declined, cancelled or expired one freed it, a refunded one gave it back. */
const LIVE = new Set(['held', 'paid', 'partially_refunded']);

const show = (t: { value: number | null; percent: string | null }, digits: number): string =>
  t.value !== null ? `value ${(t.value / 10 ** digits).toFixed(digits)}` : t.percent !== null ? `${t.percent}% off` : 'no value';

/**
 * The coupon terms an item gave at a capture: the item as it is now when nothing changed it since, else
 * the terms before the first recorded `catalog update` or `catalog import` after the capture (in the audit log's
 * order). An import recorded before imports kept coupon terms (`couponTermsBefore`) names the items it wrote but
 * not what they were: past one the terms cannot be recomputed.
 */
class TermsTrail {
  private readonly items;
  private readonly changes;
  constructor(
    trail: ReturnType<VerifyQueries['couponTermsTrail']>,
    private readonly digits: number,
  ) {
    this.items = new Map(trail.items.map((i) => [i.sku, i]));
    this.changes = trail.changes.map((c) => {
      let detail: Record<string, unknown> = {};
      try {
        detail = JSON.parse(c.detail ?? '{}') as Record<string, unknown>;
      } catch {
        // an unreadable detail proves nothing: treated as a change whose terms are not recorded
      }
      const skus = c.action === 'catalog.import' ? (Array.isArray(detail.skus) ? (detail.skus as unknown[]) : null) : [c.subject];
      const terms = c.action === 'catalog.update' || c.action === 'catalog.import';
      const before = (c.action === 'catalog.import' ? (detail.couponTermsBefore as Record<string, unknown> | undefined) : undefined) ?? null;
      return { id: c.id, at: c.at, action: c.action, skus, terms, before: c.action === 'catalog.update' ? (detail.before as Record<string, unknown> | undefined) : before };
    });
  }

  /** `afterAudit`: the audit id of the capture, which orders changes made at the same instant; else by time. */
  at(sku: string, instant: string, afterAudit: number | null): TermsAt {
    const item = this.items.get(sku);
    if (!item) return { unknown: `item ${sku} is not in the catalog` };
    const later = (c: { id: number; at: string }) => (afterAudit !== null ? c.id > afterAudit : c.at > instant);
    const touches = (c: { skus: unknown[] | null }) => c.skus === null || c.skus.includes(sku);
    const next = this.changes.find((c) => c.terms && later(c) && touches(c));
    if (!next) {
      // Activating or deactivating an item changes its updated_at, not its terms.
      if (item.updated_at > instant && !this.changes.some((c) => c.at === item.updated_at && touches(c))) {
        return { unknown: `item ${sku} was changed at ${item.updated_at} without a recorded change` };
      }
      return { terms: { value: item.coupon_value, percent: item.coupon_value === null ? item.coupon_percent : null, days: item.coupon_days ?? 30 } };
    }
    const b = next.action === 'catalog.update' ? next.before : (next.before?.[sku] as Record<string, unknown> | undefined);
    if (!b) return { unknown: `${next.action} changed item ${sku} at ${next.at} without recording its coupon terms before` };
    let value: number | null = null;
    if (typeof b.couponValue === 'string') {
      const p = parseMoney(b.couponValue, this.digits);
      if (!p.ok) return { unknown: `the recorded change of ${sku} at ${next.at} has an unreadable coupon value` };
      value = p.value;
    }
    const percent = value === null && typeof b.couponPercent === 'string' ? b.couponPercent : null;
    const days = typeof b.couponDays === 'number' ? b.couponDays : 30;
    return { terms: { value, percent, days } };
  }
}

export interface CouponBooks {
  /** coupons-match-issuing-orders */
  issued: Problems;
  /** coupons-match-use */
  used: Problems;
  /** Coupons whose value and expiresOn could not be recomputed, with the first reason. */
  unproven: { count: number; first: string | null };
  coupons: number;
}

export function checkCoupons(q: VerifyQueries, zone: string, digits: number): CouponBooks {
  const issued = new Problems();
  const used = new Problems();
  const unproven = { count: 0, first: null as string | null };
  const coupons = q.couponsIssued();
  const byCode = new Map<string, CouponFacts>(coupons.map((c) => [c.code, c]));
  const trail = new TermsTrail(q.couponTermsTrail(), digits);
  const money = (m: number) => (m / 10 ** digits).toFixed(digits);

  // Issue: by a paid order's coupon line, to its buyer, at its capture, on the item's terms of that moment.
  const lineTerms = new Map<string, string>();
  for (const c of coupons) {
    const s = `coupon ${c.code}`;
    if (c.order_member === null) {
      issued.add(s, `names order ${c.order_id}, which does not exist`);
      continue;
    }
    if (c.order_status === null || !ISSUING.has(c.order_status)) {
      issued.add(s, `was issued by order ${c.order_id}, which is ${c.order_status}: only a paid order issues coupons`);
      continue;
    }
    if (c.line_kind !== 'coupon' || c.line_sku !== c.sku) {
      issued.add(s, `is a ${c.sku} coupon but line ${c.line_no} of order ${c.order_id} is ${c.line_sku === null ? 'missing' : `${c.line_kind} ${c.line_sku}`}`);
      continue;
    }
    if (c.member_id !== c.order_member) {
      issued.add(s, `is member ${c.member_id}'s but order ${c.order_id} was bought by ${c.order_member}`);
      continue;
    }
    if (c.issued_at !== c.paid_at || (c.redeemed_at !== null && c.redeemed_at !== c.issued_at)) {
      issued.add(s, `was issued at ${c.issued_at} but order ${c.order_id} was paid at ${c.paid_at ?? 'no time'}${c.redeemed_at !== null ? ` (its redemption entry: ${c.redeemed_at})` : ''}`);
      continue;
    }
    if ((c.value === null) === (c.percent === null)) {
      issued.add(s, `has ${c.value === null ? 'neither a value nor a percent' : 'both a value and a percent'}`);
      continue;
    }
    const t = trail.at(c.sku, c.issued_at, c.capture_audit_id);
    if ('terms' in t) {
      const want = addDays(localDate(c.issued_at, zone), t.terms.days);
      if (c.value !== t.terms.value || c.percent !== t.terms.percent) {
        issued.add(s, `has ${show(c, digits)} but item ${c.sku} gave ${show(t.terms, digits)} when order ${c.order_id} issued it`);
      } else if (c.expires_on !== want) {
        issued.add(s, `expires on ${c.expires_on} but item ${c.sku} lasted ${t.terms.days} days when order ${c.order_id} issued it on ${localDate(c.issued_at, zone)}: ${want}`);
      }
      continue;
    }
    unproven.count++;
    unproven.first ??= `coupon ${c.code}: ${t.unknown}`;
    // Still, the units of one line were issued together: same terms, same expiry.
    const key = `${c.order_id}\u0000${c.line_no}`;
    const mine = `${show(c, digits)}, expires on ${c.expires_on}`;
    const first = lineTerms.get(key);
    if (first === undefined) lineTerms.set(key, mine);
    else if (first !== mine) issued.add(s, `has ${mine} but another coupon of line ${c.line_no} of order ${c.order_id} has ${first}`);
  }
  // One coupon per unit bought; a refunded unit voids one.
  for (const ln of q.couponLines()) {
    const want = ISSUING.has(ln.status) ? ln.quantity : 0;
    if (ln.issued !== want) issued.add(`order ${ln.order_id} line ${ln.line_no}`, `is ${ln.status} with ${ln.quantity} × ${ln.sku} but issued ${ln.issued} coupon(s)`);
    else if (ln.voided !== (want ? ln.refunded_qty : 0)) issued.add(`order ${ln.order_id} line ${ln.line_no}`, `has ${ln.refunded_qty} of ${ln.quantity} × ${ln.sku} refunded but ${ln.voided} of its coupons void`);
  }

  // Use: a coupon is held or used by the one live order naming it, whose discount is the coupon's.
  const users = new Map<string, { id: string; status: string; paid_at: string | null }[]>();
  const refundedBy = new Map<string, { id: string; paid_at: string | null }>();
  for (const o of q.couponOrders()) {
    const s = `order ${o.id}`;
    if (o.coupon_code === null) {
      used.add(s, `records a discount of ${money(o.discount)} but names no coupon`);
      continue;
    }
    const c = byCode.get(o.coupon_code);
    if (!c) {
      used.add(s, `names coupon ${o.coupon_code}, which does not exist`);
      continue;
    }
    const d = c.value === null && c.percent === null ? null : couponDiscount(couponTerms(c), o.money_base);
    if (d === null || o.discount !== d) {
      used.add(s, `records a discount of ${money(o.discount)} but coupon ${c.code} (${show(c, digits)}) gives ${d === null ? 'none' : money(d)} on its ${money(o.money_base)} paid in money`);
      continue;
    }
    if (o.member_id !== c.member_id) {
      used.add(s, `is member ${o.member_id}'s but uses coupon ${c.code} of member ${c.member_id}`);
      continue;
    }
    if (o.created_at < c.issued_at || localDate(o.created_at, zone) > c.expires_on) {
      used.add(s, `was created at ${o.created_at}, outside coupon ${c.code}'s life (issued ${c.issued_at}, expires on ${c.expires_on})`);
      continue;
    }
    if (o.status === 'refunded') refundedBy.set(c.code, { id: o.id, paid_at: o.paid_at });
    if (LIVE.has(o.status)) {
      const list = users.get(c.code) ?? [];
      list.push({ id: o.id, status: o.status, paid_at: o.paid_at });
      users.set(c.code, list);
    }
  }
  for (const c of coupons) {
    const s = `coupon ${c.code}`;
    const u = users.get(c.code) ?? [];
    if (u.length > 1) {
      used.add(s, `is used by ${u.length} orders (${u.map((x) => x.id).join(', ')}): a coupon is single-use`);
      continue;
    }
    const by = u[0];
    const want = !by ? (c.status === 'void' ? 'void' : 'active') : by.status === 'held' ? 'held' : 'used';
    // A used coupon's time is its order's payment; a void one's, the refund of its unit (counted per line above).
    const wantAt = by && want === 'used' ? by.paid_at : want === 'void' && c.refunds_at_used > 0 ? c.used_at : null;
    // Refunds written before a completing refund gave the coupon back left it used by the refunded order: harmless, as it stays unusable.
    const old = refundedBy.get(c.code);
    const keptByOldRefund = !by && old !== undefined && c.status === 'used' && c.used_order_id === old.id && c.used_at === old.paid_at;
    if (!keptByOldRefund && (c.status !== want || c.used_order_id !== (by?.id ?? null) || c.used_at !== wantAt || (want === 'void' && wantAt === null))) {
      const now = `is ${c.status}${c.used_order_id !== null ? ` by order ${c.used_order_id}` : ''}${c.used_at !== null ? ` at ${c.used_at}` : ''}`;
      const should = by
        ? `order ${by.id} (${by.status}) ${want === 'held' ? 'holds it' : `used it at ${by.paid_at ?? 'no time'}`}`
        : want === 'void'
          ? `no refund of line ${c.line_no} of order ${c.order_id} was made then`
          : 'no paid or open order uses it';
      used.add(s, `${now} but ${should}`);
    }
  }
  return { issued, used, unproven, coupons: coupons.length };
}
