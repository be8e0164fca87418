// The one place where the §4 model's operations meet the product's services (in-process, on a real temp
// SQLite ledger). When a service's signature or result changes, only this file should need to follow.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Ctx } from '../../src/services/ledger.js';
import * as members from '../../src/services/members.js';
import * as rules from '../../src/services/rules.js';
import * as catalog from '../../src/services/catalog.js';
import * as checkout from '../../src/services/checkout.js';
import * as orders from '../../src/services/orders.js';
import * as expiry from '../../src/services/expiry.js';
import * as reports from '../../src/services/reports.js';
import * as verify from '../../src/services/verify.js';
import * as outbox from '../../src/services/outbox.js';
import { importPurchases } from '../../src/services/importPurchases.js';
import { initialisedLedger } from '../helpers/store.js';
import { money, type ImportRow, type Item, type PointsRequest, type Rules } from '../model/spec4Model.js';

export type Outcome = 'ok' | 'refused' | 'unknown' | 'exists';

/** Exit 3 is a refusal, exit 2 an unknown id (or an existing member); anything else is a bug and is rethrown. */
function outcomeOf(e: unknown): Outcome {
  const err = e as { exitCode?: number; code?: string };
  if (err.exitCode === 3) return 'refused';
  if (err.exitCode === 2) return err.code === 'MEMBER_EXISTS' ? 'exists' : 'unknown';
  throw e;
}
async function attempt<T>(p: () => Promise<T>): Promise<{ outcome: Outcome; value?: T; error?: string }> {
  try {
    return { outcome: 'ok', value: await p() };
  } catch (e) {
    return { outcome: outcomeOf(e), error: (e as Error).message };
  }
}

/** A rules document as a file would say it (decimal strings, money as "0.00"). */
export function rulesDocument(r: Rules): unknown {
  return {
    earn: {
      pointsPerUnit: r.earn.pointsPerUnit,
      rounding: r.earn.rounding,
      minOrderAmount: money(r.earn.minOrderAmount),
      maxPointsPerOrder: r.earn.maxPointsPerOrder,
      multipliers: r.earn.multipliers,
    },
    tiers: r.tiers,
    redeem: { pointsPerUnit: String(r.redeem.pointsPerUnit), minPoints: r.redeem.minPoints, maxRatio: r.redeem.maxRatio },
    expiry: r.expiry,
    limits: { dailyEarnCap: r.dailyEarnCap, reviewAbove: null, verifyPointsAbove: r.verifyPointsAbove ?? null },
  };
}

export interface MemberFigures {
  balance: number;
  held: number;
  available: number;
  debt: number;
  lifetimeEarned: number;
  tier: string | null;
  lots: { points: number; remaining: number; earnedAt: number; expiresOn: string | null }[];
}
export interface OrderFigures {
  status: string;
  subtotal: string;
  discount: string;
  total: string;
  pointsUsed: number;
  pointsValue: string;
  pointsDiscount: string; // issue 18
  cashPaid: string;
  pointsEarned: number;
  lines: { sku: string; quantity: number; discount: string; points: number; pointsDiscount: string; cash: string; earned: number; refundedQuantity: number }[];
}
export interface CheckoutArgs {
  memberId: string;
  cart: { sku: string; quantity: number }[];
  request: PointsRequest;
  couponCode: string | null;
  decline?: boolean;
}

export class Product {
  private constructor(private readonly base: Ctx, private readonly dir: string) {}
  private fileNo = 0;
  now = 0;

  /**
   * A fresh ledger (Asia/Shanghai, CNY; a copy of one initialised once) in a temp dir — on /dev/shm when
   * there is one: this property is about the numbers, and a RAM disk spares it the fsync of every commit
   * (about 25 ms each) — or a database of its own on PostgreSQL.
   */
  static async open(startMs: number): Promise<Product> {
    const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'pointsmall-spec4-'));
    const base: Ctx = { dbPath: await initialisedLedger('model', new Date(startMs), { timezone: 'Asia/Shanghai', currency: 'CNY' }, dir), operator: 'model', now: new Date(startMs) };
    const p = new Product(base, dir);
    p.now = startMs;
    return p;
  }
  close(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
  get ctx(): Ctx {
    return { ...this.base, now: new Date(this.now) };
  }

  addItem(it: Item): Promise<unknown> {
    return catalog.addItem(this.ctx, {
      sku: it.sku,
      name: it.sku,
      price: money(it.price),
      pay: it.pay,
      ...(it.category ? { category: it.category } : {}),
      ...(it.maxPointsRatio ? { maxPointsRatio: it.maxPointsRatio } : {}),
      ...(it.pointsPrice !== null ? { pointsPrice: String(it.pointsPrice) } : {}),
      ...(it.pointsDiscount ? { pointsDiscount: it.pointsDiscount } : {}), // issue 18
      ...(it.coupon ? { kind: 'coupon', couponDays: String(it.couponDays), ...('value' in it.coupon ? { couponValue: money(it.coupon.value) } : { couponPercent: String(it.coupon.percent) }) } : {}),
    });
  }
  /** `contact`: a phone, so one-time codes (issue 18) can reach the member. */
  async addMember(id: string, contact = false): Promise<Outcome> {
    return (await attempt(() => members.addMember(this.ctx, { id, name: `Member ${id}`, ...(contact ? { phone: `1380000000${id.slice(1)}` } : {}) }))).outcome;
  }
  async setFrozen(id: string, frozen: boolean): Promise<Outcome> {
    return (await attempt(() => members.setFrozen(this.ctx, id, frozen, 'model test'))).outcome;
  }
  async adjust(id: string, points: number): Promise<Outcome> {
    return (await attempt(() => members.adjustMember(this.ctx, id, points, 'model test'))).outcome;
  }
  async applyRules(r: Rules, effectiveAt: number): Promise<void> {
    const file = join(this.dir, `rules-${this.fileNo++}.json`);
    writeFileSync(file, JSON.stringify(rulesDocument(r)));
    await rules.applyRules(this.ctx, file, new Date(effectiveAt).toISOString());
  }
  /** A line-level purchase CSV of one source: the summary's counters, or exit 2 when every row was rejected. */
  async importRows(source: string, rows: ImportRow[]): Promise<{ outcome: Outcome; summary?: Record<string, unknown>; error?: string }> {
    const file = join(this.dir, `purchases-${this.fileNo++}.csv`);
    const body = rows.map((r) => [r.orderId, r.memberId, new Date(r.at).toISOString(), r.sku, r.category ?? '', r.quantity, money(r.unitPrice)].join(','));
    writeFileSync(file, `order_id,member_id,purchased_at,sku,category,quantity,unit_price\n${body.join('\n')}\n`);
    const r = await attempt(() => importPurchases(this.ctx, { file, source, rejects: `${file}.rejects.csv` }));
    return { outcome: r.outcome, summary: r.value as unknown as Record<string, unknown> | undefined, error: r.error };
  }
  private input(a: CheckoutArgs) {
    return { memberId: a.memberId, items: a.cart, request: a.request, tender: 'card' as const, decline: a.decline, ...(a.couponCode ? { coupon: a.couponCode } : {}) };
  }
  /** One-shot checkout: 'refused' also for a declined payment. */
  async checkout(a: CheckoutArgs): Promise<{ outcome: Outcome; orderId?: string; error?: string }> {
    const r = await attempt(() => checkout.checkout(this.ctx, this.input(a)));
    if (r.outcome !== 'ok') return r;
    return { outcome: r.value!.status === 'declined' ? 'refused' : 'ok', orderId: r.value!.orderId };
  }
  async start(a: CheckoutArgs): Promise<{ outcome: Outcome; orderId?: string; error?: string }> {
    const r = await attempt(() => checkout.startCheckout(this.ctx, this.input(a)));
    return { outcome: r.outcome, orderId: r.value?.orderId, error: r.error };
  }
  /** Issue 18: `code` — the one of the auth.code message, a wrong one, or none (a checkout without a code ignores it). */
  async confirm(orderId: string, decline: boolean, code: 'right' | 'wrong' | 'none' = 'right'): Promise<Outcome> {
    const sent = (await outbox.listOutbox(this.ctx, {})).find((m) => m.topic === 'auth.code' && (m.payload as { checkoutId?: string }).checkoutId === orderId);
    const right = sent ? (sent.payload as { code: string }).code : '000000';
    const typed = code === 'none' ? undefined : code === 'right' ? right : right === '000000' ? '000001' : '000000';
    const r = await attempt(() => checkout.confirmCheckout(this.ctx, orderId, { tender: 'card', decline, code: typed }));
    return r.outcome === 'ok' && r.value!.status === 'declined' ? 'refused' : r.outcome;
  }
  async cancel(orderId: string): Promise<Outcome> {
    return (await attempt(() => checkout.cancelCheckout(this.ctx, orderId))).outcome;
  }
  async refund(orderId: string, lines: { sku: string; quantity?: number }[] | null) {
    const r = await attempt(() => orders.refundOrder(this.ctx, orderId, lines, 'model test'));
    if (r.outcome !== 'ok') return { outcome: r.outcome, error: r.error };
    const v = r.value!;
    return {
      outcome: r.outcome,
      // (the model checks the figures; a line's item kind is the catalog's, not §4's)
      result: { lines: v.lines.map(({ kind: _kind, ...l }) => l), pointsReturned: v.pointsReturned, cashRefunded: v.cashRefunded, pointsTakenBack: v.pointsTakenBack, complete: v.complete },
    };
  }
  /** An expiry run as of any date: an as-of after today needs --force (the model draws such runs too). */
  async expire(asOf: string, dryRun: boolean): Promise<Record<string, unknown>> {
    const input = { asOf, dryRun, force: true };
    return (await expiry.runExpiry(this.ctx, input)) as unknown as Record<string, unknown>;
  }
  /** The code of one coupon an order line issued, preferring an unused one when `unused`. */
  async couponCode(orderId: string, lineNo: number, unused: boolean): Promise<string> {
    const o = await orders.showOrder(this.ctx, orderId);
    const sku = o.lines.find((x) => x.lineNo === lineNo)!.sku;
    const mine = o.couponsIssued.filter((c) => c.sku === sku);
    const isUnused = (c: { status: string }) => c.status === 'active' || c.status === 'expired';
    return (mine.find((c) => isUnused(c) === unused) ?? mine[0]).code;
  }

  async member(id: string): Promise<MemberFigures> {
    const v = await members.showMember(this.ctx, id);
    return {
      balance: v.balance,
      held: v.held,
      available: v.available,
      debt: v.debt,
      lifetimeEarned: v.lifetimeEarned,
      tier: v.tier,
      lots: v.lots.map((l) => ({ points: l.points, remaining: l.remaining, earnedAt: Date.parse(l.earnedAt), expiresOn: l.expiresOn })),
    };
  }
  async order(orderId: string): Promise<OrderFigures> {
    const o = await orders.showOrder(this.ctx, orderId);
    return {
      status: o.status,
      subtotal: o.subtotal,
      discount: o.discount,
      total: o.total,
      pointsUsed: o.pointsUsed,
      pointsValue: o.pointsValue,
      pointsDiscount: o.pointsDiscount,
      cashPaid: o.cashPaid,
      pointsEarned: o.pointsEarned,
      lines: o.lines.map((l) => ({ sku: l.sku, quantity: l.quantity, discount: l.discount, points: l.points, pointsDiscount: l.pointsDiscount, cash: l.cash, earned: l.earned, refundedQuantity: l.refundedQuantity })),
    };
  }
  async liability(): Promise<{ outstandingPoints: number; value: string; byExpiryMonth: { month: string | null; points: number }[] }> {
    const r = await reports.liabilityReport(this.ctx, {});
    return { outstandingPoints: r.outstandingPoints, value: r.value, byExpiryMonth: r.byExpiryMonth.map((b) => ({ month: b.month, points: b.points })) };
  }
  async verify(): Promise<{ ok: boolean; failed: unknown[] }> {
    const v = await verify.verifyLedger(this.ctx);
    return { ok: v.ok, failed: v.checks.filter((c) => !c.ok) };
  }
}
