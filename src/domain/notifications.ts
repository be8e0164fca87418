// Notifications: the topics the outbox carries, their payload shapes, and the channel a member is reached on.
// Pure: nothing here sends anything; the outbox only queues.
import { looksLikeFormula } from './formulaCells.js';

export type Channel = 'sms' | 'email' | 'none';

/** Every topic pointsmall queues. */
export const TOPICS = ['order.confirmed', 'auth.code', 'points.expiring', 'points.expired'] as const;
export type Topic = (typeof TOPICS)[number] | (string & {});

export interface ExpiringPayload {
  memberId: string;
  lotId: number;
  points: number;
  expiresOn: string;
}

export interface ExpiredPayload {
  memberId: string;
  asOf: string;
  points: number;
  lots: number;
  balance: number;
}

export interface Contact {
  phone: string | null;
  email: string | null;
}

export interface Delivery {
  channel: Channel;
  recipient: string | null;
}

const present = (s: string | null | undefined): s is string => typeof s === 'string' && s.trim() !== '';

/** A member with a phone gets sms, else with an email email, else none (SPEC §3 outbox). */
export function chooseChannel(contact: Contact | null | undefined): Delivery {
  if (contact && present(contact.phone)) return { channel: 'sms', recipient: contact.phone.trim() };
  if (contact && present(contact.email)) return { channel: 'email', recipient: contact.email.trim() };
  return { channel: 'none', recipient: null };
}

export const expiringKey = (lotId: number): string => `expiring:${lotId}`;
/** One per expiry entry: a second run for the same member and as-of date (a backdated lot lapsed since) is its own notice. */
export const expiredKey = (entryId: number): string => `expired:entry:${entryId}`;

/** One queued notification as scripts see it (outbox list --json and export). */
export interface OutboxRecord {
  id: number;
  createdAt: string;
  topic: string;
  memberId: string | null;
  channel: Channel;
  recipient: string | null;
  dedupeKey: string | null;
  payload: unknown;
  sentAt: string | null;
}

export const OUTBOX_CSV_COLUMNS = ['id', 'createdAt', 'topic', 'memberId', 'channel', 'recipient', 'dedupeKey', 'payload', 'sentAt'] as const;

/**
 * A CSV cell: quoted when it holds a comma, quote or line break; a text starting with = + - @ gets a
 * leading quote so a spreadsheet does not run it (a phone number like +8613800138000, which a sender
 * needs verbatim, is not such a text: looksLikeFormula).
 */
export function csvCell(v: unknown): string {
  let s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  if (looksLikeFormula(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** Renders records as JSON Lines (one object per line) or CSV with a header row; the payload is a JSON cell in CSV. */
export function renderOutbox(records: readonly OutboxRecord[], format: 'jsonl' | 'csv'): string {
  if (format === 'jsonl') return records.map((r) => JSON.stringify(r) + '\n').join('');
  const lines = [OUTBOX_CSV_COLUMNS.join(',')];
  for (const r of records) lines.push(OUTBOX_CSV_COLUMNS.map((k) => csvCell(r[k])).join(','));
  return lines.join('\r\n') + '\r\n';
}
