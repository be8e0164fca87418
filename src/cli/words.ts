// Words for people: a count with its noun in the right number, and what an import rejected.
import { c } from './colour.js';
import { safeText } from './output.js';
import type { RejectSample } from '../domain/rejects.js';
import type { QuoteResult } from '../services/checkout.js';

/** `1 order`, `2 orders`, `0 orders`, `-1 point` (the plural is the noun + s unless given). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${Math.abs(n) === 1 ? noun : plural}`;
}

/**
 * The quote's points allowed, as `checkout quote` and the interactive checkout show them: the allowed
 * amounts with the minimum, maximum and step; or, when none can be used, just the reason in the words a
 * refused checkout gives (allowedText: "no points can be used here: …").
 */
export function pointsAllowedText(q: Pick<QuoteResult, 'allowedText' | 'allowedPoints' | 'minPoints' | 'maxUsablePoints' | 'pointsStep'>): string {
  if (q.allowedPoints.min === null) return q.allowedText;
  return `${q.allowedText} (minimum ${q.minPoints} per checkout, at most ${q.maxUsablePoints}, step ${q.pointsStep})`;
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
}

/**
 * On stderr, for a person (never on stdout, which keeps the summary only): the first rejected rows as
 * `FILE:LINE: reason` (hledger's style), "… and N more", then where they all are. `again` is the
 * command that imports the fixed rejects file (and whether the import had options to give it again).
 */
export function showRejects(r: RejectsShown, again: { command: string; options: boolean }, dryRun = false): void {
  if (!r.rejected) return;
  const out: string[] = r.firstRejects.map((x) => `${safeText(r.file)}:${x.line}: ${safeText(x.reason)}`);
  if (r.rejected > r.firstRejects.length) out.push(`… and ${r.rejected - r.firstRejects.length} more`);
  const rows = count(r.rejected, 'row');
  if (r.rejectsFile) {
    out.push(`${c.yellow('!')} ${rows} rejected, every one in ${safeText(r.rejectsFile)} with its line and reason (_line, _reason)`);
    out.push(`  fix them there and import that file again${again.options ? ' with the same options' : ''}: ${again.command} ${safeText(r.rejectsFile)}`);
  } else if (dryRun) out.push(`${c.yellow('!')} ${rows} would be rejected (pass --rejects FILE to keep them)`);
  process.stderr.write(out.join('\n') + '\n');
}
