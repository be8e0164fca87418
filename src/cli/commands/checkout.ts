// `checkout [quote|start|confirm|cancel]`, `order list|show|refund`, `coupon list`, `holds list|release-expired`.
import { Command, InvalidArgumentError, Option } from 'commander';
import { UsageError, RefusedError } from '../../errors.js';
import { c } from '../colour.js';
import { canPrompt, cmdOf, confirmOnTerminal, context, emit, globals, mustAsk } from '../cli.js';
import { parseDateOpt, parseIntOpt } from '../parse.js';
import { type Column, localTime, notice, printFields, printTable, stdoutIsTTY, tell, wrapToTerminal } from '../output.js';
import { emitList, fileOptions, pageOptions } from '../lists.js';
import type { PointsRequest } from '../../domain/split.js';
import type { CartItem, CheckoutInput, CheckoutResult, QuoteResult, Tender } from '../../services/checkout.js';
import type { OrderDetail, RefundResult } from '../../services/orders.js';
import { cashShown, checkoutQuestion, closeReasonShown, count, isZeroMoney, pointsAllowedText, pointsRow } from '../words.js';

const checkoutServices = () => import('../../services/checkout.js');
const orderServices = () => import('../../services/orders.js');
const holdServices = () => import('../../services/holds.js');

const TENDER_CHOICES = ['cash', 'card', 'alipay', 'wechat'];
/**
 * SKU or SKU:QTY. A SKU holds no colon (README "Catalog"), so whatever follows the last one is the
 * quantity: a whole number ≥ 1, else the error says so (not "item … not found").
 */
function skuQty(flag: string, v: string): { sku: string; quantity?: number } {
  const text = v.trim();
  const colon = text.lastIndexOf(':');
  const sku = colon < 0 ? text : text.slice(0, colon);
  if (!sku) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)} must be SKU or SKU:QTY with QTY ≥ 1`);
  if (colon < 0) return { sku };
  const q = text.slice(colon + 1).trim();
  const qty = /^\d+$/.test(q) ? Number(q) : NaN;
  if (!Number.isSafeInteger(qty) || qty < 1) throw new InvalidArgumentError(`${flag} ${JSON.stringify(v)}: quantity ${JSON.stringify(q)} must be a whole number ≥ 1 (SKU:QTY)`);
  return { sku, quantity: qty };
}

function collectItem(flag: string) {
  return (v: string, prev: CartItem[] | undefined): CartItem[] => {
    const { sku, quantity } = skuQty(flag, v);
    return [...(prev ?? []), { sku, quantity: quantity ?? 1 }];
  };
}

function collectRefundLine(v: string, prev: { sku: string; quantity?: number }[] | undefined) {
  return [...(prev ?? []), skuQty('--line', v)];
}

/** The cart flags shared by the one-shot checkout, quote and start. */
function cartOptions(cmd: Command): Command {
  return cmd
    .option('--member <id>', 'the member paying')
    .option('--item <sku[:qty]>', 'an item to buy (repeat for more items)', collectItem('--item'))
    .option('--points <n>', 'exactly N points, or refused (exit 3) naming the allowed minimum, maximum and step', parseIntOpt('--points', 0))
    .option('--max-points', 'the most points allowed (the items, the available points; none below redeem.minPoints)')
    .option('--no-points', 'pay everything in cash (refused when an item can only be paid in points)')
    .option('--coupon <code>', 'a coupon of the member, applied before points')
    .addOption(new Option('--tender <tender>', 'how the cash part is paid (default: cash; checkout on a terminal asks, start leaves it to confirm)').choices(TENDER_CHOICES));
}

interface CartOpts {
  member?: string;
  item?: CartItem[];
  points?: number | false;
  maxPoints?: boolean;
  coupon?: string;
  tender?: Tender;
  decline?: boolean;
  idempotencyKey?: string;
}

function pointsRequest(o: CartOpts): PointsRequest | undefined {
  const given = [o.points === false, typeof o.points === 'number', Boolean(o.maxPoints)].filter(Boolean).length;
  if (given > 1) throw new UsageError('--points, --max-points and --no-points exclude one another', 'pass at most one of them');
  if (o.points === false) return { kind: 'none' };
  if (typeof o.points === 'number') return { kind: 'points', points: o.points };
  if (o.maxPoints) return { kind: 'max' };
  return undefined;
}

function inputOf(cmd: Command, opts: { needAll: boolean }): { input: CheckoutInput; complete: boolean; explicitPoints: boolean } {
  const o = cmd.optsWithGlobals() as CartOpts;
  const request = pointsRequest(o);
  const complete = Boolean(o.member) && Boolean(o.item?.length);
  if (opts.needAll && !complete && !canPrompt(cmd)) {
    throw new UsageError(!o.member ? 'missing --member' : 'missing --item', 'pass --member ID and --item SKU[:QTY] (prompts only appear on a terminal)');
  }
  return {
    input: {
      memberId: o.member ?? '',
      items: o.item ?? [],
      request: request ?? { kind: 'default' },
      coupon: o.coupon,
      tender: o.tender,
      decline: o.decline,
      idempotencyKey: o.idempotencyKey,
    },
    complete,
    explicitPoints: request !== undefined,
  };
}

const signed = (n: number) => (n > 0 ? `+${n}` : String(n));

/** Issue 18: the points-discount columns, shown only when an item of the order has one. */
function discountColumns(lines: { pointsDiscountPercent: string | null }[]) {
  if (!lines.some((x) => x.pointsDiscountPercent)) return [];
  return [
    { key: 'pointsDiscountPercent' as const, header: 'points discount %', short: 'pts disc %', align: 'right' as const, format: (v: unknown) => (v ? `${v}%` : '-') },
    { key: 'pointsDiscount' as const, header: 'points discount', short: 'pts disc', align: 'right' as const },
  ];
}

function quoteLines(r: QuoteResult | CheckoutResult): Promise<void> {
  return printTable(
    [
      { key: 'sku', header: 'sku' },
      { key: 'name', header: 'name' },
      { key: 'pay', header: 'pay', fit: 'fixed' }, // a status: never cut (trial 40: "poin…")
      { key: 'quantity', header: 'qty', align: 'right' },
      { key: 'unitPrice', header: 'price', align: 'right' },
      { key: 'amount', header: 'amount', align: 'right' },
      { key: 'discount', header: 'discount', align: 'right' },
      ...discountColumns(r.lines),
    ],
    r.lines as never[],
    { name: 'line' },
  );
}

async function quoteView(r: QuoteResult): Promise<void> {
  if (stdoutIsTTY()) await quoteLines(r); // a pipe gets the totals first, then the lines as line.N.* pairs
  printFields([
    ['member', `${r.memberId}  balance ${r.balance}, available ${r.available}`],
    ['subtotal', `${r.subtotal} ${r.currency}`],
    ['discount', r.coupon ? `${r.discount} (coupon ${r.coupon})` : r.discount],
    ['total', c.bold(r.total)],
    ['points used', `${r.pointsUsed} (worth ${r.pointsValue})`],
    ...pointsDiscountRow(r),
    ['points allowed', pointsAllowedText(r)],
    ...(r.requiredPoints ? ([['points-only', `${r.lines.filter((x) => x.requiredPoints).map((x) => `${x.sku} takes ${x.requiredPoints}`).join(', ')} points whatever is asked (so --no-points is refused)`]] as [string, unknown][]) : []),
    ['cash to pay', isZeroMoney(r.cashPaid) ? r.cashPaid : `${c.bold(r.cashPaid)} by ${r.tender}`],
    ['points earned', r.pointsEarned],
  ]);
  if (!stdoutIsTTY()) await quoteLines(r);
  if (r.note) process.stderr.write(`note: ${r.note}\n`);
}

async function resultView(r: CheckoutResult): Promise<void> {
  const status =
    r.status === 'paid' ? c.green('paid') : r.status === 'held' ? c.yellow(`held until ${localTime(r.expiresAt)}`) : r.status === 'declined' ? c.red('declined — nothing was taken') : c.yellow(r.status);
  printFields([
    ['order', `${r.orderId}${r.replayed ? c.dim('  (same result as the first try)') : ''}`],
    ['status', status],
    ['member', r.memberId],
    ['total', `${r.total} ${r.currency}${r.coupon ? `  (coupon ${r.coupon}: −${r.discount})` : ''}`],
    // a cancelled, declined or lapsed order used nothing: the points it held went back
    pointsRow(r),
    ...pointsDiscountRow(r),
    ['cash', cashShown(r)],
    r.pointsToEarn !== null ? ['points to earn', `${r.pointsToEarn} once paid`] : ['points earned', r.pointsEarned],
    ['balance', `${r.balance} (available ${r.available})`],
    ...(r.verification ? ([['code', `${r.verification.status}${r.verification.status === 'pending' ? ` (sent by ${r.verification.channel}; ${r.verification.attemptsLeft} attempts)` : ''}`]] as [string, unknown][]) : []),
    ...r.couponsIssued.map((cp) => ['coupon issued', `${cp.code}  ${cp.value ? `${cp.value} off` : `${cp.percent}% off`}, until ${cp.expiresOn}`] as [string, unknown]),
  ]);
  if (r.paymentUnknown) {
    // (a retried start, a cancel: its payment was started and never answered; paying it blindly could charge twice)
    notice(`its ${r.tender ?? 'cash'} payment was started and never recorded an answer: check the payment terminal (or the till); see what to do with: pointsmall order show ${r.checkoutId}${r.status === 'held' ? ` and, if it was paid, pointsmall checkout confirm ${r.checkoutId} --already-paid` : ''}`);
  } else if (r.status === 'held' && r.verification?.status === 'pending') {
    process.stderr.write(`a one-time code was sent to the member (${r.verification.channel})\nconfirm with: pointsmall checkout confirm ${r.checkoutId} --code CODE\n   or cancel: pointsmall checkout cancel ${r.checkoutId}\n`);
  } else if (r.status === 'held') process.stderr.write(`confirm with: pointsmall checkout confirm ${r.checkoutId}\n   or cancel: pointsmall checkout cancel ${r.checkoutId}\n`);
}

/**
 * Prints a checkout's result; a declined payment exits 3 with PAYMENT_DECLINED. The declined order is still
 * printed (with --json its document, `"status": "declined"`, SPEC §3), and the error on stderr names it.
 */
async function emitCheckout(cmd: Command, r: CheckoutResult): Promise<void> {
  await emit(cmd, r, resultView);
  if (r.note) process.stderr.write(`note: ${r.note}\n`);
  if (r.status === 'declined') {
    // all paid in points: there was no payment to decline, only the flag that declines it
    if (/^0+(\.0+)?$/.test(r.cashPaid)) {
      throw new RefusedError('PAYMENT_DECLINED', `order ${r.orderId} was declined by --decline, though it had no cash to pay; the hold on ${count(r.pointsUsed, 'point')} was released`, 'run it again without --decline; nothing was taken');
    }
    // the order is closed: another tender is a new checkout, and a key stays bound to this declined attempt
    const key = cmd.opts().idempotencyKey as string | undefined;
    const again = cmd.name() === 'confirm' ? 'start a new checkout with another tender' : key ? `try another tender under a new --idempotency-key (${JSON.stringify(key)} stays with this declined attempt)` : 'try another tender';
    throw new RefusedError('PAYMENT_DECLINED', `the ${r.tender ?? 'cash'} payment of ${r.cashPaid} for order ${r.orderId} was declined; the hold on ${count(r.pointsUsed, 'point')} was released`, `${again}; nothing was taken`);
  }
}

async function runCheckout(cmd: Command): Promise<void> {
  const { input, complete, explicitPoints } = inputOf(cmd, { needAll: true });
  const ask = mustAsk(cmd, 'a checkout (it takes points and cash)');
  const ctx = await context(cmd);
  const svc = await checkoutServices();
  let final = input;
  if (ask) {
    const { interactiveCheckout } = await import('../prompts-checkout.js');
    const chosen = await interactiveCheckout(ctx, input, { askMember: !input.memberId, askItems: !complete || !input.items.length, askPoints: !explicitPoints, askTender: !input.tender });
    if (!chosen) {
      process.stderr.write('nothing was paid\n');
      return;
    }
    final = chosen;
  }
  // The clock of the answer, not of the first prompt: a person may have crossed a lot's expiresOn (§7)
  // or a hold's minutes while choosing (the confirmed figures are checked again: QUOTE_CHANGED).
  const now = ask ? await context(cmd) : ctx;
  let r: CheckoutResult;
  try {
    r = await svc.checkout(now, final);
  } catch (e) {
    // issue 18: above limits.verifyPointsAbove the interactive checkout holds, then asks for the code sent.
    if (!ask || !(e instanceof RefusedError) || e.code !== 'VERIFICATION_REQUIRED') throw e;
    const { verifiedCheckout } = await import('../prompts-checkout.js');
    r = await verifiedCheckout(now, final);
  }
  await emitCheckout(cmd, r);
}

/** --code: six digits (a malformed code is an input error, exit 2, and not counted as an attempt). */
function parseCode(v: string): string {
  const t = v.trim();
  if (!/^\d{6}$/.test(t)) throw new InvalidArgumentError(`--code ${JSON.stringify(v)} must be the six digits of the auth.code message`);
  return t;
}

export function register(program: Command): void {
  const checkout = cartOptions(
    program
      .command('checkout')
      .description('split checkout, points plus cash: one-shot (asks on a terminal; --yes elsewhere), or quote / start / confirm / cancel; interactive on a terminal'),
  )
    .option('--decline', 'simulate a declined payment (the hold is voided, exit 3)')
    .option('--idempotency-key <key>', 'a retry with the same key returns the first result and pays nothing again')
    .action(async (...args) => runCheckout(cmdOf(args)));

  cartOptions(checkout.command('quote').description('the breakdown only (points, their value, cash, points earned); writes nothing')).action(async (...args) => {
    const cmd = cmdOf(args);
    const { input } = inputOf(cmd, { needAll: false });
    if (!input.memberId) throw new UsageError('missing --member', 'pass --member ID');
    if (!input.items.length) throw new UsageError('missing --item', 'pass --item SKU[:QTY]');
    const r = await (await checkoutServices()).quoteCheckout(await context(cmd), input);
    await emit(cmd, r, quoteView);
  });

  cartOptions(checkout.command('start').description('hold the points and stock; then checkout confirm ID or checkout cancel ID (above limits.verifyPointsAbove it queues an auth.code message: confirm with --code)'))
    .option('--idempotency-key <key>', 'a retry with the same key returns the first hold')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const { input } = inputOf(cmd, { needAll: false });
      if (!input.memberId) throw new UsageError('missing --member', 'pass --member ID');
      if (!input.items.length) throw new UsageError('missing --item', 'pass --item SKU[:QTY]');
      const r = await (await checkoutServices()).startCheckout(await context(cmd), input);
      await emit(cmd, r, resultView);
      if (r.note) process.stderr.write(`note: ${r.note}\n`);
    });

  checkout
    .command('confirm <checkoutId>')
    .description('pay the cash part of a held checkout and capture it (asks on a terminal; --yes elsewhere)')
    .addOption(new Option('--tender <tender>', "how the cash part is paid (default: the checkout's, else cash; a terminal asks)").choices(TENDER_CHOICES))
    .option('--decline', 'simulate a declined payment (the hold is voided, exit 3)')
    .option('--code <code>', 'the six-digit one-time code a checkout above limits.verifyPointsAbove needs (3 wrong codes void it)', parseCode)
    .option('--already-paid', 'record a payment that was started and never recorded (interrupted), which the terminal shows approved: capture without paying again')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const o = cmd.optsWithGlobals() as CartOpts & { code?: string; alreadyPaid?: boolean };
      const ask = mustAsk(cmd, `confirming checkout ${id} (it takes points and cash)`);
      const ctx = await context(cmd);
      if (ask && o.alreadyPaid) {
        const held = await (await orderServices()).showOrder(ctx, id);
        if (held.status === 'held' && !(await confirmOnTerminal(`Record ${held.cashPaid} by ${o.tender ?? held.tender ?? 'cash'} for checkout ${id} as already paid (${count(held.pointsUsed, 'point')} from ${held.memberId}), paying nothing again?`))) {
          process.stderr.write('nothing was recorded\n');
          return;
        }
      } else if (ask) {
        const held = await (await orderServices()).showOrder(ctx, id);
        if (held.status === 'held') {
          // a tender neither given nor chosen at the start is asked, as the one-shot checkout asks it (trial 32)
          if (o.tender === undefined && !held.tender && !/^0+(\.0+)?$/.test(held.cashPaid)) {
            const { choose } = await import('../prompts.js');
            o.tender = await choose<Tender>(`Pay ${held.cashPaid} by`, TENDER_CHOICES.map((t) => ({ value: t as Tender, name: t })));
          }
          const tender = o.tender ?? held.tender ?? 'cash';
          const stays = `${wrapToTerminal(`nothing was paid; the hold stays until it expires or: pointsmall checkout cancel ${id}`)}\n`;
          const yes = await confirmOnTerminal(checkoutQuestion(held, tender, held.memberId, ` for checkout ${id}`)).catch((e: unknown) => {
            // Ctrl-C at the question: "cancelled" is the question's, not the checkout's
            if ((e as Error)?.name === 'CancelledError') process.stderr.write(`\n${stays}`);
            throw e;
          });
          if (!yes) {
            process.stderr.write(stays);
            return;
          }
        }
      }
      let r: CheckoutResult;
      try {
        // after a question, the clock of the answer (held points may have lapsed meanwhile, §7)
        r = await (await checkoutServices()).confirmCheckout(ask ? await context(cmd) : ctx, id, { tender: o.tender, decline: o.decline, code: o.code, alreadyPaid: o.alreadyPaid });
      } catch (e) {
        // issue 18: on a terminal, a checkout that needs its one-time code asks for it.
        if (!ask || !(e instanceof UsageError) || e.code !== 'CODE_REQUIRED') throw e;
        tell(e.message);
        const { confirmWithCode } = await import('../prompts-checkout.js');
        r = await confirmWithCode(ctx, id, { tender: o.tender, decline: o.decline });
      }
      await emitCheckout(cmd, r);
    });

  checkout
    .command('cancel <checkoutId>')
    .description('void a held checkout: points back to their lots, stock and coupon freed')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await checkoutServices()).cancelCheckout(await context(cmd), id);
      await emit(cmd, r, resultView);
    });

  const order = program.command('order').description('orders: list, show, refund');
  const orderList = order
    .command('list')
    .description('orders, newest first')
    .option('--member <id>', 'only this member')
    .option('--from <date>', 'from this date (inclusive)', parseDateOpt('--from'))
    .option('--to <date>', 'to this date (inclusive)', parseDateOpt('--to'))
    .addOption(new Option('--status <status>', 'only this status').choices(['held', 'paid', 'declined', 'cancelled', 'expired', 'partially_refunded', 'refunded']));
  fileOptions(pageOptions(orderList, 'orders', { order: 'newest first' })).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const r = await (await orderServices()).listOrders(await context(cmd), { memberId: o.member, from: o.from, to: o.to, status: o.status, limit: o.limit, offset: o.offset });
    const columns: Column<(typeof r)[number]>[] = [
      { key: 'orderId', header: 'order' },
      { key: 'createdAt', header: 'at', format: localTime },
      { key: 'memberId', header: 'member' },
      { key: 'status', header: 'status', fit: 'fixed' },
      { key: 'total', header: 'total', align: 'right' },
      { key: 'pointsUsed', header: 'points', align: 'right' },
      { key: 'cashPaid', header: 'cash', align: 'right' },
      { key: 'paidWith', header: 'tender', drop: 2 },
      { key: 'pointsEarned', header: 'earned', align: 'right' },
      { key: 'refundedCash', header: 'refunded', align: 'right', drop: 1 }, // (kept over tender: points and cash are the order's as paid, trial 39)
      // the points refunds paid back (`refunded` is cash): last, so a pipe's earlier columns keep their places
      { key: 'refundedPoints', header: 'refunded pts', short: 'ref pts', align: 'right', drop: 1 },
    ];
    // A person's table brackets the points and cash of an order that was never paid (declined, cancelled,
    // lapsed), with a note: they were asked, not taken (trial 40). Pipes and files get the values, as data.
    const unpaid = (o: (typeof r)[number]) => o.status === 'declined' || o.status === 'cancelled' || o.status === 'expired';
    await emitList(cmd, 'orders', r, columns, async () => {
      if (!stdoutIsTTY()) return printTable(columns, r);
      const bracket = (v: unknown, o: (typeof r)[number]) => (unpaid(o) ? `(${v})` : String(v));
      await printTable(columns.map((col) => (col.key === 'pointsUsed' || col.key === 'cashPaid' ? { ...col, format: bracket } : col)), r);
      if (r.some(unpaid)) process.stdout.write(c.dim(wrapToTerminal('(points) (cash): asked, never taken: the order was declined, cancelled or ran out unpaid')) + '\n');
    });
  });

  order
    .command('show <orderId>')
    .description('an order with its lines, their points/cash/earned shares and refunds')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const r = await (await orderServices()).showOrder(await context(cmd), id);
      await emit(cmd, r, orderView);
    });

  order
    .command('refund <orderId>')
    .description('refund a whole order, or --line SKU:QTY units of it: points back to their lots, cash refunded, earned points taken back (asks on a terminal; --yes elsewhere)')
    .option('--line <sku[:qty]>', 'refund these units only (repeat; no QTY = all left of the line)', collectRefundLine)
    .option('--reason <text>', 'why (kept in the journal and the audit log)')
    .action(async (id: string, ...args) => {
      const cmd = cmdOf(args);
      const o = cmd.opts();
      const ask = mustAsk(cmd, `refunding order ${id} (it returns points and cash)`);
      const ctx = await context(cmd);
      const svc = await orderServices();
      let expect: Awaited<ReturnType<typeof svc.previewRefund>> | undefined;
      if (ask) {
        expect = await svc.previewRefund(ctx, id, o.line ?? null);
        const what = expect.lines.map((x) => `${x.quantity} × ${x.sku}`).join(', ');
        const question =
          `Refund ${what} of ${id} to ${expect.memberId}: return ${count(expect.pointsReturned, 'point')} ` +
          (expect.debtRepaid > 0 ? `(${expect.debtRepaid} repay the member's debt, ${expect.pointsReturned - expect.debtRepaid} to their lots), ` : 'to their lots, ') +
          `refund ${expect.cashRefunded} cash, take back ${expect.pointsTakenBack} earned points` +
          (expect.coupon ? (expect.coupon.returned ? `, give back coupon ${expect.coupon.code}?` : ` (coupon ${expect.coupon.code} stays used until the whole order is refunded)?`) : '?');
        if (!(await confirmOnTerminal(question))) {
          process.stderr.write('nothing was refunded\n');
          return;
        }
      }
      const r = await svc.refundOrder(ctx, id, o.line ?? null, o.reason, expect);
      await emit(cmd, r, refundView);
    });

  const couponList = program
    .command('coupon')
    .description('coupons issued by coupon items')
    .command('list')
    .description('coupons with their status (active, held, used, expired, void), newest first')
    .option('--member <id>', 'only this member')
    .addOption(new Option('--status <status>', 'only this status').choices(['active', 'held', 'used', 'expired', 'void']));
  fileOptions(pageOptions(couponList, 'coupons', { order: 'newest first' })).action(async (...args) => {
    const cmd = cmdOf(args);
    const o = cmd.opts();
    const r = await (await orderServices()).listCoupons(await context(cmd), { memberId: o.member, status: o.status, limit: o.limit, offset: o.offset });
    await emitList(cmd, 'coupons', r, [
      { key: 'code', header: 'code' },
      { key: 'memberId', header: 'member' },
      { key: 'sku', header: 'sku' },
      { key: 'value', header: 'off', align: 'right', format: (_v, row) => (row.value ? row.value : `${row.percent}%`) },
      { key: 'expiresOn', header: 'expires on', fit: 'fixed' },
      { key: 'status', header: 'status', fit: 'fixed' },
      { key: 'usedOrderId', header: 'used by' },
    ]);
  });

  const holdsCmd = program.command('holds').description('open checkout holds');
  fileOptions(holdsCmd.command('list').description('open holds and when they expire')).action(async (...args) => {
    const cmd = cmdOf(args);
    const r = await (await holdServices()).listHolds(await context(cmd));
    await emitList(cmd, 'holds', r, [
      { key: 'checkoutId', header: 'checkout' },
      { key: 'memberId', header: 'member' },
      { key: 'points', header: 'points', align: 'right' },
      { key: 'createdAt', header: 'held at', format: localTime, drop: 1 },
      { key: 'expiresAt', header: 'expires at', format: localTime },
      // (never cut: the fence's end is what an operator waits for)
      { key: 'expired', header: 'expired', fit: 'fixed', format: (v, row) => (row.payingUntil ? `being paid until ${localTime(row.payingUntil)}` : `${v ? 'yes' : 'no'}${row.paymentUnknown ? ', payment not recorded' : ''}`) },
    ]);
  });
  holdsCmd
    .command('release-expired')
    .description('release every hold past its expiry (points back to their lots, stock and coupons freed)')
    .action(async (...args) => {
      const cmd = cmdOf(args);
      const r = await (await holdServices()).releaseExpired(await context(cmd));
      await emit(cmd, r, () => {
        process.stdout.write(`${count(r.released, 'expired hold')} released${r.orderIds.length ? ': ' + r.orderIds.join(', ') : ''}\n`);
        if (r.paymentUnknown.length) {
          notice(`note: ${r.paymentUnknown.join(', ')} had a payment started and never recorded: check the payment terminal (or the till) and reverse any charge for ${r.paymentUnknown.length === 1 ? 'it' : 'them'}; pointsmall order show ID says how much`);
        }
      });
    });
  void globals;
}

async function orderView(r: OrderDetail): Promise<void> {
  printFields([
    ['order', r.orderId],
    ['status', r.payingUntil ? `${r.status}, being paid (fenced until ${localTime(r.payingUntil)})` : r.paymentUnknown && r.status === 'held' ? `${r.status}, payment not recorded (see cash)` : closeReasonShown(r)],
    ['member', r.memberId],
    ['created', localTime(r.createdAt)],
    ['paid', r.paidAt ? localTime(r.paidAt) : '-'],
    ['total', `${r.total} ${r.currency} (subtotal ${r.subtotal}, discount ${r.discount}${r.coupon ? `, coupon ${r.coupon}` : ''})`],
    pointsRow(r),
    ...pointsDiscountRow(r),
    ['cash', cashShown(r)],
    ['points earned', r.pointsEarned],
    ['refunded', `${count(r.refundedPoints, 'point')}, ${r.refundedCash} cash, ${r.refundedEarned} earned taken back`],
    ...(r.verification ? ([['code', `${r.verification.status} (sent by ${r.verification.channel}${r.verification.status === 'pending' ? `; ${r.verification.attemptsLeft} attempts left` : ''})`]] as [string, unknown][]) : []),
  ]);
  await printTable(
    [
      { key: 'lineNo', header: '#', align: 'right' },
      { key: 'sku', header: 'sku' },
      { key: 'name', header: 'name' },
      { key: 'quantity', header: 'qty', align: 'right' },
      { key: 'amount', header: 'amount', align: 'right' },
      { key: 'points', header: 'points', align: 'right' },
      ...discountColumns(r.lines),
      { key: 'cash', header: 'cash', align: 'right' },
      { key: 'earned', header: 'earned', align: 'right' },
      { key: 'refundedQuantity', header: 'refunded qty', align: 'right' },
    ],
    r.lines,
    { name: 'line' },
  );
  if (r.couponsIssued.length) {
    await printTable(
      [
        { key: 'code', header: 'coupon' },
        { key: 'expiresOn', header: 'expires on' },
        { key: 'status', header: 'status', fit: 'fixed' },
      ],
      r.couponsIssued,
      { name: 'coupon' },
    );
  }
}

function refundView(r: RefundResult): void {
  printFields([
    ['order', `${r.orderId} → ${r.status}`],
    ['refunded', r.lines.map((x) => `${x.quantity} × ${x.sku}`).join(', ')],
    ['points returned', r.debtRepaid > 0 ? `${signed(r.pointsReturned)} (${r.debtRepaid} repaid the member's debt, the rest to the lots they came from)` : `${signed(r.pointsReturned)} (to the lots they came from)`],
    ['cash refunded', r.cashRefunded],
    ['earned taken back', r.pointsTakenBack],
    ...(r.debt ? ([['debt', c.red(`${count(r.debt, 'point')} owed, repaid by later accruals`)]] as [string, unknown][]) : []),
    ...(r.coupon ? ([['coupon', r.coupon.returned ? `${r.coupon.code} given back (usable through ${r.coupon.expiresOn})` : `${r.coupon.code} stays used until the whole order is refunded`]] as [string, unknown][]) : []),
    ['balance', `${r.balance} (available ${r.available})`],
    // (a refunded item may come back damaged, or not at all: the shelf is the operator's to count; a
    // refunded coupon is void, and is sold again only if its stock is raised: trial 40)
    r.lines.every((x) => x.kind === 'coupon')
      ? ['stock', `not put back (the refunded coupons are void); to sell as many again: pointsmall catalog update ${r.lines[0]?.sku ?? 'SKU'} --stock N`]
      : ['stock', `not put back; if the goods are back on the shelf: pointsmall catalog update ${r.lines[0]?.sku ?? 'SKU'} --stock N`],
  ]);
}

/** Issue 18: "points discount 5.00 (the points paid 50.00 of items worth that in points at a discount)", only when there is one. */
function pointsDiscountRow(r: { pointsDiscount: string; lines: { sku: string; pointsDiscountPercent: string | null }[] }): [string, unknown][] {
  if (!r.lines.some((x) => x.pointsDiscountPercent)) return [];
  const items = r.lines.filter((x) => x.pointsDiscountPercent).map((x) => `${x.sku} ${x.pointsDiscountPercent}%`).join(', ');
  return [['points discount', `${r.pointsDiscount} (points pay more on ${items})`]];
}
