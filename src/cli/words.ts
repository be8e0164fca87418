// Words for people: a count with its noun in the right number, and what an import rejected.
import { c } from './colour.js';
import { notice, safeText } from './output.js';
import type { RejectSample } from '../domain/rejects.js';
import type { QuoteResult } from '../services/checkout.js';
import { shellWord } from '../domain/text.js';

/** `1 order`, `2 orders`, `0 orders`, `-1 point` (the plural is the noun + s unless given). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${Math.abs(n) === 1 ? noun : plural}`;
}

/**
 * The quote's points allowed, as `checkout quote` and the interactive checkout show them: the allowed
 * amounts with the minimum, maximum and step; or, when none can be used, just the reason in the words a
 * refused checkout gives (allowedText: "no points can be used here: …").
 */
export function pointsAllowedText(q: Pick<QuoteResult, 'allowedText' | 'allowedPoints' | 'minPoints' | 'maxUsablePoints' | 'pointsStep'> & { requiredPoints?: number }): string {
  if (q.allowedPoints.min === null) return q.allowedText;
  // beside points-only items the minimum is of the points on the mixed items, as the refusal says (trial 40)
  return `${q.allowedText} (minimum ${q.minPoints} ${q.requiredPoints ? 'on the mixed items' : 'per checkout'}, at most ${q.maxUsablePoints}, step ${q.pointsStep})`;
}

/** The verb that agrees with a count: `waits` for one, `wait` for any other number. */
export function agree(n: number, one: string, other: string): string {
  return n === 1 ? one : other;
}

/** Whether a money amount is zero (`0`, `0.00`). */
export const isZeroMoney = (amount: string): boolean => /^-?0+(\.0+)?$/.test(amount);

/** The cash part and how it is paid: `12.00 by card`; `0.00` alone when there is no cash to pay. */
export function cashBy(amount: string, tender: string | null | undefined): string {
  return isZeroMoney(amount) || !tender ? amount : `${amount} by ${tender}`;
}

/**
 * The cash part of a checkout or order as shown: `49.00 by card`, and `(not paid: declined)` after it when the
 * order closed unpaid (its paidWith is null: declined, expired, cancelled), so no unpaid order reads as paid.
 */
export function cashShown(r: { cashPaid: string; tender: string | null | undefined; paidWith: string | null; status: string; paymentUnknown?: boolean }): string {
  const shown = cashBy(r.cashPaid, r.tender);
  if (isZeroMoney(r.cashPaid)) return shown;
  // a payment started and never answered may have been paid: the ledger cannot say "not paid"
  if (r.paymentUnknown) return `${shown} (payment started, no answer recorded: check the terminal)`;
  return r.paidWith === null && r.status !== 'held' ? `${shown} (not paid: ${r.status})` : shown;
}

/**
 * The points row of an order or checkout: used (paid, and refunded ones: refunds are a row of their own),
 * held (not paid yet) or released (declined, cancelled, lapsed: the points went back; trial 40 read
 * "points used 1492" on a declined order).
 */
export function pointsRow(r: { status: string; pointsUsed: number; pointsValue: string }): [string, string] {
  if (r.status === 'held') return ['points held', `${r.pointsUsed} (worth ${r.pointsValue})`];
  if (r.status === 'declined' || r.status === 'cancelled' || r.status === 'expired') return ['points released', r.pointsUsed ? `${r.pointsUsed} (held for it, back in the member's lots)` : '0'];
  return ['points used', `${r.pointsUsed} (worth ${r.pointsValue})`];
}

/** Why an order closed unpaid, in words, when its status alone does not say (a checkout voided by wrong codes). */
export function closeReasonShown(r: { status: string; closeReason: string | null }): string {
  if (r.closeReason === 'verification_failed') return `${r.status}: voided after the last wrong one-time code it allowed`;
  if (r.status === 'expired') return `${r.status}: its hold ran out before it was paid`;
  return r.status;
}

/** The confirmation question of a checkout: `Use 500 points (worth 5.00) and take 12.00 by card from M1?`, without the cash when there is none. */
export function checkoutQuestion(q: { pointsUsed: number; pointsValue: string; pointsDiscount?: string; cashPaid: string }, tender: string, memberId: string, suffix = ''): string {
  const discount = q.pointsDiscount && !isZeroMoney(q.pointsDiscount) ? `, plus a points discount of ${q.pointsDiscount}` : '';
  const pts = `${count(q.pointsUsed, 'point')} (worth ${q.pointsValue}${discount})`;
  if (isZeroMoney(q.cashPaid)) return `Use ${pts} from ${memberId}${suffix}?`;
  if (q.pointsUsed === 0) return `Take ${q.cashPaid} by ${tender} from ${memberId}${suffix}?`;
  return `Use ${pts} and take ${q.cashPaid} by ${tender} from ${memberId}${suffix}?`;
}

/** What an import rejected: its first rows, the rejects file and how to import it again. */
export interface RejectsShown {
  file: string;
  rejected: number;
  firstRejects: RejectSample[];
  rejectsFile: string | null;
  /** An earlier run's rejects file at this run's rejects path (this run rejected nothing). */
  staleRejectsFile?: string | null;
}

/**
 * On stderr, for a person (never on stdout, which keeps the summary only): the first rejected rows as
 * `FILE:LINE: reason` (hledger's style), "… and N more", then where they all are. `again` is the
 * command that imports the fixed rejects file, and the options of this import to give it again
 * (repeatOptions): a rejects file imported under another --source would be other orders to the ledger.
 */
export function showRejects(r: RejectsShown, again: { command: string; options: string[] }, dryRun = false): void {
  if (!r.rejected) {
    // (only when this run wrote nothing there: an earlier run's rejects, maybe rows still not imported)
    if (r.staleRejectsFile) notice(`note: ${safeText(r.staleRejectsFile, false)} is an earlier run's rejects file (this run rejected no row), left as it was: import its fixed rows, or remove it`);
    return;
  }
  const out: string[] = r.firstRejects.map((x) => `${safeText(r.file, false)}:${x.line}: ${safeText(x.reason, false)}`);
  if (r.rejected > r.firstRejects.length) out.push(`… and ${r.rejected - r.firstRejects.length} more`);
  const rows = count(r.rejected, 'row');
  if (r.rejectsFile && dryRun) {
    // nothing was imported: the rejects file alone is not what is left to import (trial 27)
    out.push(`${c.yellow('!')} ${rows} would be rejected, every one in ${safeText(r.rejectsFile, false)} with its line and reason (_line, _reason)`);
    out.push(`  nothing was imported (a dry run): fix them in ${safeText(r.file, false)} and import that file`);
  } else if (r.rejectsFile) {
    out.push(`${c.yellow('!')} ${rows} rejected, every one in ${safeText(r.rejectsFile, false)} with its line and reason (_line, _reason)`);
    const command = [again.command, ...[...again.options, r.rejectsFile].map(shellWord)].join(' ');
    out.push(`  fix them there and import that file again${again.options.length ? ' with the same options' : ''}: ${safeText(command, false)}`);
  } else if (dryRun) out.push(`${c.yellow('!')} ${rows} would be rejected (pass --rejects FILE to keep them)`);
  notice(out.join('\n'));
}

export { shellWord };

/**
 * The options of this command line among `names` (long options with a value, e.g. '--source') and
 * `flags` (without one), as they were typed, in their order: the values a person gave, not what parsing
 * made of them, so that they can be given again.
 */
export function repeatOptions(names: readonly string[], flags: readonly string[] = [], argv: readonly string[] = process.argv.slice(2)): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    if (t === '--') break;
    const eq = t.indexOf('=');
    const name = t.startsWith('--') && eq > 0 ? t.slice(0, eq) : t;
    if (flags.includes(t)) out.push(t);
    if (!names.includes(name)) continue;
    if (eq > 0) out.push(t);
    else if (i + 1 < argv.length) out.push(t, argv[++i]);
  }
  return out;
}

/**
 * The options to import a rejects file again with (repeatOptions): those this import was given, but the
 * rejects file is always UTF-8, so an --encoding given (or one a --profile may hold) becomes `--encoding utf8`.
 */
export function rejectsAgainOptions(names: readonly string[], flags: readonly string[] = [], argv: readonly string[] = process.argv.slice(2)): string[] {
  const typed = repeatOptions([...names, '--encoding'], flags, argv);
  const out: string[] = [];
  let encoding = false;
  for (let i = 0; i < typed.length; i++) {
    if (typed[i] === '--encoding') (encoding = true), i++;
    else if (typed[i].startsWith('--encoding=')) encoding = true;
    else out.push(typed[i]);
  }
  if (encoding || out.includes('--profile') || out.some((w) => w.startsWith('--profile='))) out.push('--encoding', 'utf8');
  return out;
}
