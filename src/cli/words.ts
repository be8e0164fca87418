// Words for people: a count with its noun in the right number, and what an import rejected.
import { c } from './colour.js';
import { safeText } from './output.js';
import type { RejectSample } from '../domain/rejects.js';

/** `1 order`, `2 orders`, `0 orders`, `-1 point` (the plural is the noun + s unless given). */
export function count(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${Math.abs(n) === 1 ? noun : plural}`;
}

/** The verb that agrees with a count: `waits` for one, `wait` for any other number. */
export function agree(n: number, one: string, other: string): string {
  return n === 1 ? one : other;
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
