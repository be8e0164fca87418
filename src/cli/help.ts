// Help that teaches: examples for every command and a sentence for every argument, in one place, added to
// the command tree once it is registered (main.ts). test/e2e/help.test.ts fails when one is missing.
import type { Command } from 'commander';
import { displayWidth, wrap } from './output.js';

/** Real invocations per command path, shown under "Examples:" in its --help. */
const EXAMPLES: Record<string, string[]> = {
  init: ['pointsmall init --currency CNY --timezone Asia/Shanghai', 'pointsmall --db /srv/mall/ledger.db init --currency EUR --timezone Europe/Berlin'],
  'db info': ['pointsmall db info', 'pointsmall db info --json'],
  'db backup': ['pointsmall db backup /backups/pointsmall-$(date +%F).db'],
  'db copy': ['pointsmall db copy --to postgres://pointsmall@db.example.com/shop', 'pointsmall db copy --db postgres://pointsmall@db.example.com/shop --to shop-copy.db'],
  'db restore': ['pointsmall db restore /backups/pointsmall-2026-11-22.db --yes'],
  'db set': ['pointsmall db set hold-minutes 30'],
  'db migrate': ['pointsmall db migrate'],
  'ledger verify': ['pointsmall ledger verify', 'pointsmall ledger verify --anchor "$(tail -n 1 /srv/anchors.txt)"'],
  'ledger entries': ['pointsmall ledger entries --member M001', 'pointsmall ledger entries --kind expiry --from 2026-11-01 --to 2026-11-30', 'pointsmall ledger entries --limit 100 --offset 100   # the second page: the 100 before the newest 100', 'pointsmall ledger entries --member M001 --limit 1000 --out m001.csv'],
  'ledger export': ['pointsmall ledger export --out journal.jsonl', 'pointsmall ledger export --format csv --out journal.csv'],
  'audit list': ['pointsmall audit list --since 2026-11-01', 'pointsmall audit list --operator alice --limit 20 --offset 20', 'pointsmall audit list --since 2026-11-01 --limit 100000 --out audit-november.csv'],
  'member add': ['pointsmall member add --id M001 --name "Wang Fang" --phone 13800000000', 'pointsmall member add --id M002 --name "Li Wei" --email li@example.com --tier gold'],
  'member update': ['pointsmall member update M001 --phone 13900000000', 'pointsmall member update M002 --tier auto'],
  'member import': ['pointsmall member import members.csv', 'pointsmall member import crm.csv --map id=CardNo --map name=FullName --rejects bad-members.csv'],
  'member list': ['pointsmall member list --search wang', 'pointsmall member list --min-balance 1000 --limit 50 --offset 50', 'pointsmall member list --status frozen --format csv --out frozen.csv', 'pointsmall member list | cut -f1,5'],
  'member show': ['pointsmall member show M001', 'pointsmall member show M001 --json'],
  'member history': ['pointsmall member history M001', 'pointsmall member history M001 --from 2026-11-01 --to 2026-11-30'],
  'member adjust': ['pointsmall member adjust M001 --points 500 --reason "welcome bonus"', 'pointsmall member adjust M001 --points -200 --reason "duplicate credit" --yes'],
  'member freeze': ['pointsmall member freeze M001 --reason "card reported stolen"'],
  'member unfreeze': ['pointsmall member unfreeze M001'],
  'catalog add': ['pointsmall catalog add --sku TEA-001 --name "Longjing 250g" --price 168.00 --stock 120', 'pointsmall catalog add --sku VIP --name "Lounge pass" --price 50.00 --pay points --points-price 4000'],
  'catalog update': ['pointsmall catalog update TEA-001 --price 158.00', 'pointsmall catalog update TEA-001 --stock 200'],
  'catalog show': ['pointsmall catalog show TEA-001'],
  'catalog list': ['pointsmall catalog list', 'pointsmall catalog list --category tea --all', 'pointsmall catalog list --out catalog.json'],
  'catalog deactivate': ['pointsmall catalog deactivate TEA-004'],
  'catalog activate': ['pointsmall catalog activate TEA-004'],
  'catalog import': ['pointsmall catalog import catalog.csv'],
  'rules apply': ['pointsmall rules apply rules.json', 'pointsmall rules apply rules-2027.json --effective 2027-01-01'],
  'rules show': ['pointsmall rules show', 'pointsmall rules show --at 2026-06-01 --json'],
  'rules history': ['pointsmall rules history'],
  'rules simulate': ['pointsmall rules simulate draft.json --from 2026-08-01 --to 2026-10-31', 'pointsmall rules simulate draft.json --by category --out what-if.html'],
  'review list': ['pointsmall review list', 'pointsmall review list --status all --member M001', 'pointsmall review list --out review.csv'],
  'review approve': ['pointsmall review approve 12 --note "receipt checked"', 'pointsmall review approve T1001'],
  'review reject': ['pointsmall review reject 13 --note "staff purchase"'],
  checkout: ['pointsmall checkout', 'pointsmall checkout --member M001 --item TEA-001 --max-points --tender alipay --yes'],
  'checkout quote': ['pointsmall checkout quote --member M001 --item TEA-001:2', 'pointsmall checkout quote --member M001 --item TEA-001 --points 3000'],
  'checkout start': ['pointsmall checkout start --member M001 --item TEA-001 --points 3000 --idempotency-key till7-0042', 'pointsmall outbox list --topic auth.code --json   # the one-time code a large points payment needs'],
  'checkout confirm': ['pointsmall checkout confirm ORD-000042 --tender card --yes', 'pointsmall checkout confirm ORD-000042 --code 493027 --yes   # above limits.verifyPointsAbove: the code of the auth.code message'],
  'checkout cancel': ['pointsmall checkout cancel ORD-000042'],
  'order list': ['pointsmall order list --member M001 --limit 20', 'pointsmall order list --status paid --from 2026-11-01 --to 2026-11-30 --out november.csv', 'pointsmall order list --limit 50 --offset 50   # the second page of 50'],
  'order show': ['pointsmall order show ORD-000042'],
  'order refund': ['pointsmall order refund ORD-000042 --reason "damaged" --yes', 'pointsmall order refund ORD-000042 --line TEA-001:1 --reason "one box returned"'],
  'coupon list': ['pointsmall coupon list --member M001', 'pointsmall coupon list --status active --limit 20 --offset 20', 'pointsmall coupon list --format json --out coupons.json'],
  'holds list': ['pointsmall holds list', 'pointsmall holds list --out holds.csv'],
  'holds release-expired': ['pointsmall holds release-expired'],
  'expire preview': ['pointsmall expire preview --within 30d', 'pointsmall expire preview --within 2w --notify'],
  'outbox list': ['pointsmall outbox list --pending', 'pointsmall outbox list --topic points.expiring --limit 20 --offset 20', 'pointsmall outbox list --pending --out pending.csv'],
  'outbox export': ['pointsmall outbox export --out outbox.jsonl --mark-sent', 'pointsmall outbox export --format csv --out /srv/sms/today.csv --mark-sent --skip-empty'],
  'report summary': ['pointsmall report summary --from 2026-11-01 --to 2026-11-30', 'pointsmall report summary --format html --out summary.html'],
  'report liability': ['pointsmall report liability', 'pointsmall report liability --as-of 2026-12-31 --format csv --out liability.csv'],
  'report activity': ['pointsmall report activity --by week --from 2026-11-01', 'pointsmall report activity --format html --out activity.html'],
  'report members': ['pointsmall report members --top 20 --by earned', 'pointsmall report members --format csv --out members.csv'],
  'report expiring': ['pointsmall report expiring --within 30d', 'pointsmall report expiring --within 3m --format csv --out expiring.csv'],
  'report items': ['pointsmall report items --from 2026-11-01 --to 2026-11-30'],
  'report recommend': ['pointsmall report recommend --member M001 --top 5', 'pointsmall report recommend --item TEA-001', 'pointsmall report recommend --segment tier=gold --out gold-offers.csv', 'pointsmall report recommend --member 17850 --exclude POST,D'],
  'report segments': ['pointsmall report segments', 'pointsmall report segments --detail --format csv --out segments.csv'],
  demo: ['pointsmall demo', 'pointsmall --db /tmp/demo.db demo --force'],
  'import list': ['pointsmall import list', 'pointsmall import list --json', 'pointsmall import list --out runs.csv'],
  'purchase void': ['pointsmall purchase void online-retail 536365 --dry-run', 'pointsmall purchase void online-retail 536365 --yes'],
  // --- activities (issue 18) ---
  'points award': ['pointsmall points award --member M001 --activity review --ref REVIEW-123', 'pointsmall points award --member M002 --activity signup --ref FORM-88 --at "2026-11-20 09:30" --json'],
  'import activities': ['pointsmall import activities activities.csv', 'pointsmall import activities app-export.csv --map ref=TaskId --map member_id=Card --date-format "M/D/YYYY H:mm" --dry-run'],
  'report anomalies': ['pointsmall report anomalies --from 2026-11-01 --to 2026-11-30', 'pointsmall report anomalies --from 2026-11-01 --format csv --out anomalies.csv'],
  // --- end activities ---
};

/** A sentence per positional argument, by command path and name, else by name alone. */
const ARGUMENTS: Record<string, string> = {
  id: 'the member id',
  'review approve id': 'the review number (review list; A12 for an activity award) or the order id (an award\'s ref)',
  'review reject id': 'the review number (review list; A12 for an activity award) or the order id (an award\'s ref)',
  sku: 'the item\'s SKU',
  orderId: 'the order id, like ORD-000042',
  checkoutId: 'the order id the checkout start printed, like ORD-000042',
  'db backup file': 'where to write the backup (a new file, or an existing one with --force)',
  'db restore file': 'a backup written by db backup',
  'member import file': 'a CSV of members',
  'catalog import file': 'a CSV of catalog items (fixtures/catalog.csv shows the columns)',
  'rules apply file': 'a rules JSON file (fixtures/rules.json shows every field)',
  'rules simulate file': 'a draft rules JSON file, as rules apply takes (fixtures/rules.json shows every field)',
  'import purchases file': 'a CSV of purchases',
  'import void run': 'the run id, as import list shows it',
  'purchase void source': 'the source the order was imported under (--source; default "default")',
  'purchase void order-id': 'the order id as it was in the file',
  'import activities file': 'a CSV of activities with columns activity, member_id, ref, occurred_at',
  setting: 'the setting to change: hold-minutes or payment-minutes',
  value: 'its new value',
};

/** Examples under every command that has some, and argument descriptions where a command gave none. */
export function addExamples(program: Command): void {
  const walk = (cmd: Command, path: string[]) => {
    const key = path.join(' ');
    for (const a of cmd.registeredArguments) {
      if (!a.description) a.description = ARGUMENTS[`${key} ${a.name()}`] ?? ARGUMENTS[a.name()] ?? '';
    }
    const examples = EXAMPLES[key];
    if (examples) cmd.addHelpText('after', `\nExamples:\n${examples.map((e) => `  ${e}`).join('\n')}\n`);
    for (const sub of cmd.commands) walk(sub, [...path, sub.name()]);
  };
  for (const sub of program.commands) walk(sub, [sub.name()]);
}

/**
 * Help on a terminal narrower than its text (its paragraphs are written for a wide one): a paragraph with
 * a line past the width is wrapped again to it, under its own indent, never cutting a word; an example
 * past it is broken between its words (never inside quotes) with a shell continuation, ` \`, so it can
 * still be copied whole. Lines that fit (commander's own, which it wraps to the width) stay as they are.
 */
export function fitHelp(text: string, width: number): string {
  const lines = text.split('\n');
  if (lines.every((l) => displayWidth(l) <= width)) return text;
  const indentOf = (l: string) => l.length - l.trimStart().length;
  const isExample = (l: string) => /^\s+pointsmall\s/.test(l);
  const isRow = (l: string) => /\S {2,}\S/.test(l.trim());
  const startsItem = (l: string) => /^\s*(?:[-•*]\s|\d+[.)]\s|[A-Z][\w ]*:\s*$)/.test(l);
  const out: string[] = [];
  for (let i = 0; i < lines.length; ) {
    const line = lines[i];
    if (isExample(line)) {
      // with the lines that carry it on (an example written over several, each but the last ending in \)
      let j = i + 1;
      while (j < lines.length && /\\\s*$/.test(lines[j - 1])) j++;
      const own = lines.slice(i, j);
      if (own.every((l) => displayWidth(l) <= width)) out.push(...own);
      else out.push(...breakCommand(' '.repeat(indentOf(line)) + own.map((l) => l.trim().replace(/\s*\\$/, '')).join(' '), width));
      i = j;
      continue;
    }
    // blank, or a row of commander's two columns (an option or a command, wrapped by it already)
    if (line.trim() === '' || isRow(line)) {
      out.push(line);
      i++;
      continue;
    }
    // a paragraph: this line and the next ones of its indent that carry it on
    const indent = indentOf(line);
    let j = i + 1;
    while (j < lines.length && lines[j].trim() !== '' && indentOf(lines[j]) === indent && !isExample(lines[j]) && !startsItem(lines[j]) && !isRow(lines[j])) j++;
    const block = lines.slice(i, j);
    if (block.every((l) => displayWidth(l) <= width)) out.push(...block);
    else {
      const pad = ' '.repeat(indent);
      out.push(...wrap(block.map((l) => l.trim()).join(' '), Math.max(20, width - indent)).map((l) => pad + l));
    }
    i = j;
  }
  return out.join('\n');
}

/** An example command past `width`, broken at spaces outside quotes, each break a ` \` and 4 more spaces. */
function breakCommand(line: string, width: number): string[] {
  const indent = line.length - line.trimStart().length;
  const tokens = line.trim().match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? [line.trim()];
  // an option and its value stay on one line (--map order_id=InvoiceNo)
  const words: string[] = [];
  for (let k = 0; k < tokens.length; k++) {
    const w = tokens[k];
    if (/^--?[a-z]/.test(w) && !w.includes('=') && k + 1 < tokens.length && !tokens[k + 1].startsWith('-')) words.push(`${w} ${tokens[++k]}`);
    else words.push(w);
  }
  const out: string[] = [];
  let cur = ' '.repeat(indent) + words[0];
  for (const w of words.slice(1)) {
    if (displayWidth(cur) + 1 + displayWidth(w) + 2 <= width) cur += ' ' + w;
    else {
      out.push(cur + ' \\');
      cur = ' '.repeat(indent + 4) + w;
    }
  }
  out.push(cur);
  return out;
}
