// Coupons: issued one per unit when a coupon item is bought, single-use, usable through expiresOn by the
// member who bought them, discounting a later checkout before points. Pure: today and random bytes come in.
import { Decimal } from 'decimal.js';
import type { Minor } from './money.js';
import type { CouponDiscount } from './split.js';
import { addDays, type LocalDate } from './time.js';

/** Stored states; 'expired' is derived from expiresOn, never stored. */
export type StoredCouponStatus = 'active' | 'held' | 'used' | 'void';
export type CouponStatus = StoredCouponStatus | 'expired';

export interface Coupon {
  code: string;
  memberId: string;
  sku: string;
  value: Minor | null;
  percent: string | null;
  expiresOn: LocalDate;
  status: StoredCouponStatus;
}

/** What a coupon is worth at checkout. */
export function couponTerms(c: Pick<Coupon, 'value' | 'percent'>): CouponDiscount {
  if (c.value !== null) return { value: c.value };
  return { percent: new Decimal(c.percent ?? '0') };
}

/** The status a person sees: an unused coupon past its expiresOn is expired (usable through that day). */
export function couponStatus(c: Pick<Coupon, 'status' | 'expiresOn'>, today: LocalDate): CouponStatus {
  if (c.status === 'active' && c.expiresOn < today) return 'expired';
  return c.status;
}

/** The expiresOn of a coupon issued today that lasts `days` days. */
export function couponExpiresOn(today: LocalDate, days: number): LocalDate {
  return addDays(today, days);
}

export type CouponRefusal = { code: 'COUPON_INVALID'; message: string; hint?: string };

/** Why this member may not use the coupon today, or null when it may. */
export function couponRefusal(c: Coupon | undefined, code: string, memberId: string, today: LocalDate): CouponRefusal | null {
  if (!c) return { code: 'COUPON_INVALID', message: `coupon ${code} does not exist`, hint: 'list the member\'s coupons with: pointsmall coupon list --member ID' };
  if (c.memberId !== memberId) return { code: 'COUPON_INVALID', message: `coupon ${code} belongs to another member` };
  const status = couponStatus(c, today);
  if (status === 'expired') return { code: 'COUPON_INVALID', message: `coupon ${code} expired on ${c.expiresOn}` };
  if (status === 'used') return { code: 'COUPON_INVALID', message: `coupon ${code} has already been used` };
  if (status === 'held') return { code: 'COUPON_INVALID', message: `coupon ${code} is held by a checkout in progress`, hint: 'confirm or cancel that checkout first' };
  if (status === 'void') return { code: 'COUPON_INVALID', message: `coupon ${code} was voided (its purchase was refunded)` };
  return null;
}

const ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ'; // no 0/O, 1/I/L: read aloud at a till

/** A coupon code from random bytes: CPN-XXXX-XXXX (8 characters of a 31-letter alphabet). */
export function couponCode(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < 8; i++) s += ALPHABET[bytes[i % bytes.length] % ALPHABET.length];
  return `CPN-${s.slice(0, 4)}-${s.slice(4)}`;
}

/** Reads a code as typed: case and spaces do not matter. */
export function normalizeCouponCode(text: string): string {
  return text.trim().toUpperCase().replace(/\s+/g, '');
}
