// The interactive checkout (lazy-loaded): pick the member and items, see the balance, type the points to use
// while the points value and the cash remaining update, then confirm. Only ever runs on a TTY.
import { c } from './colour.js';
import { safeText, say } from './output.js';
import type { Ctx } from '../services/ledger.js';
import type { CartItem, CheckoutInput, CheckoutResult, MemberChoice, Tender } from '../services/checkout.js';
import { checkoutQuestion, count, pointsAllowedText } from './words.js';

export interface Ask {
  askMember: boolean;
  askItems: boolean;
  askPoints: boolean;
  askTender: boolean;
}


/** Returns the checkout to run, or null when the operator declines at the confirmation. */
export async function interactiveCheckout(ctx: Ctx, given: CheckoutInput, ask: Ask): Promise<CheckoutInput | null> {
  (await import('./prompts.js')).guardTerminal();
  const { search, checkbox, input, select, confirm } = await import('@inquirer/prompts');
  const svc = await import('../services/checkout.js');
  const input0 = { ...given };

  let member: MemberChoice | undefined;
  if (ask.askMember) {
    member = await search<MemberChoice>({
      message: 'Member (type an id, name or phone)',
      source: async (term) =>
        (await svc.searchMembers(ctx, term ?? '')).map((m) => ({
          value: m,
          name: `${safeText(m.id, false)}  ${safeText(m.name, false)}${m.phone ? `  ${safeText(m.phone, false)}` : ''}  ${c.dim(`available ${m.available}`)}`,
          disabled: m.frozen ? '(frozen)' : false,
        })),
    });
    input0.memberId = member.id;
  } else {
    member = (await svc.searchMembers(ctx, input0.memberId, 50)).find((m) => m.id === input0.memberId);
  }
  if (member) say(`${c.bold(safeText(member.id, false))} ${safeText(member.name, false)}: ${c.bold(String(member.available))} ${member.available === 1 ? 'point' : 'points'} available`);

  if (ask.askItems) {
    const items = await svc.itemChoices(ctx);
    if (!items.length) throw new (await import('../errors.js')).UsageError('the catalog has no active items', 'add one with: pointsmall catalog add');
    const skus = await checkbox<string>({
      message: 'Items (space to pick, enter when done)',
      required: true,
      pageSize: 12,
      choices: items.map((i) => ({
        value: i.sku,
        // a points-only item at its points price (its cash price is not what the member pays: trial 32)
        name: `${safeText(i.sku, false)}  ${safeText(i.name, false)}  ${i.pointsPrice !== null ? `${i.pointsPrice} points` : i.price}  ${c.dim(`[${i.pay}${i.kind === 'coupon' ? ', coupon' : ''}]`)}`,
        disabled: i.stockAvailable !== null && i.stockAvailable < 1 ? '(out of stock)' : false,
      })),
    });
    const cart: CartItem[] = [];
    for (const sku of skus) {
      const left = items.find((i) => i.sku === sku)?.stockAvailable ?? null;
      const q = await input({
        message: `Quantity of ${sku}`,
        default: '1',
        validate: (v) => {
          if (!/^\d+$/.test(v.trim()) || Number(v) < 1) return 'a whole number ≥ 1';
          if (left !== null && Number(v) > left) return `only ${left} in stock`;
          return true;
        },
      });
      cart.push({ sku, quantity: Number(q) });
    }
    input0.items = cart;
  }

  // The quote of the request as given: an explicit --points / --max-points is what the confirmation shows.
  const { quote, preview } = await svc.prepareCheckout(ctx, input0);
  say(`total ${c.bold(quote.total)} ${quote.currency}${quote.coupon ? ` (coupon −${quote.discount})` : ''}; balance ${quote.balance}, available ${c.bold(String(quote.available))}`);
  // no points to choose: said once, in checkout's words, with the reason
  say(quote.allowedPoints.min === null ? quote.allowedText : `points allowed: ${pointsAllowedText(quote)}`);
  if (quote.note) say(c.yellow(`note: ${quote.note}`));

  const discounted = quote.lines.filter((x) => x.pointsDiscountPercent);
  if (discounted.length) say(`points pay more on: ${discounted.map((x) => `${x.sku} (${x.pointsDiscountPercent}% points discount)`).join(', ')}`);
  let chosen = { pointsUsed: quote.pointsUsed, pointsValue: quote.pointsValue, pointsDiscount: quote.pointsDiscount, cashPaid: quote.cashPaid };
  // Only one amount allowed (0–0, or just what the points-only items take): nothing to ask.
  const onlyOne = quote.allowedPoints.min === null;
  if (ask.askPoints && !onlyOne) {
    const text = await input({
      message: `Points to use (${quote.allowedText})`,
      default: String(quote.pointsUsed),
      transformer: (v, { isFinal }) => {
        const t = v.trim();
        if (!/^\d+$/.test(t)) return t === '' ? v : `${v}  ${c.red('not a whole number')}`;
        const p = preview(Number(t));
        if (!p.ok) return `${v}  ${c.red(p.problem ?? '')}`;
        const disc = /^0+(\.0+)?$/.test(p.pointsDiscount) ? '' : ` + points discount ${p.pointsDiscount}`;
        const info = `→ ${count(p.pointsUsed, 'point')} worth ${p.pointsValue}${disc}, cash ${p.cashPaid}`;
        return isFinal ? `${v} ${c.dim(info)}` : `${v}  ${c.cyan(info)}`;
      },
      validate: (v) => {
        if (!/^\d+$/.test(v.trim())) return 'type a whole number of points';
        const p = preview(Number(v));
        return p.ok ? true : (p.problem ?? 'not usable');
      },
    });
    const p = preview(Number(text));
    chosen = { pointsUsed: p.pointsUsed, pointsValue: p.pointsValue, pointsDiscount: p.pointsDiscount, cashPaid: p.cashPaid };
    input0.request = { kind: 'points', points: p.pointsUsed };
  }
  // What is confirmed is what is done: the checkout is refused if it would now compute other figures.
  input0.expect = { pointsUsed: chosen.pointsUsed, cashPaid: chosen.cashPaid };

  let tender: Tender = input0.tender ?? 'cash';
  if (ask.askTender && !/^0+(\.0+)?$/.test(chosen.cashPaid)) {
    const { discardTypeAhead } = await import('./prompts.js');
    await discardTypeAhead(); // (an Enter typed ahead would pick the first tender: trial 32)
    tender = await select<Tender>({
      message: `Pay ${chosen.cashPaid} by`,
      choices: (['cash', 'card', 'alipay', 'wechat'] as const).map((t) => ({ value: t, name: t })),
      default: tender,
    });
  }
  input0.tender = tender;

  const { discardTypeAhead } = await import('./prompts.js');
  await discardTypeAhead();
  const ok = await confirm({
    message: checkoutQuestion(chosen, tender, input0.memberId),
    default: false,
  });
  return ok ? input0 : null;
}

/**
 * Issue 18: a checkout above limits.verifyPointsAbove on a terminal — holds it (a code goes to the member),
 * asks for the code, and confirms; a wrong code asks again while attempts are left (the third voids it).
 */
export async function verifiedCheckout(ctx: Ctx, chosen: CheckoutInput): Promise<CheckoutResult> {
  const svc = await import('../services/checkout.js');
  const held = await svc.startCheckout(ctx, { ...chosen, idempotencyKey: undefined });
  say(`${chosen.memberId} must confirm ${held.pointsUsed} points with a one-time code: sent by ${held.verification?.channel ?? 'none'} (checkout ${held.checkoutId})`);
  const prompts = await import('./prompts.js');
  const release = async () => svc.cancelCheckout({ ...ctx, now: (await import('../services/ledger.js')).resolveNow() }, held.checkoutId);
  // the terminal gone at the code prompt: the hold goes with the command, as at Ctrl-C (trial 39b)
  prompts.onHangUp(release);
  try {
    return await confirmWithCode(ctx, held.checkoutId, { tender: chosen.tender }, { own: true });
  } catch (e) {
    const { asCancelled } = await import('../errors.js');
    const cancel = asCancelled(e);
    if (!cancel) throw e;
    // the hold this command made goes with it: a cancelled command leaves nothing held (trial 39)
    try {
      await release();
      cancel.note = `checkout ${held.checkoutId} cancelled: its ${held.pointsUsed} points and its stock are released; nothing was charged`;
    } catch (x) {
      cancel.note = `checkout ${held.checkoutId} is still held (${(x as Error).message}): release it with pointsmall checkout cancel ${held.checkoutId}`;
    }
    throw cancel;
  } finally {
    prompts.onHangUp(null);
  }
}

/** Asks for the one-time code of a held checkout and confirms it; asks again after a wrong code while attempts are left. */
export async function confirmWithCode(ctx: Ctx, checkoutId: string, opts: { tender?: Tender; decline?: boolean }, how: { own?: boolean } = {}): Promise<CheckoutResult> {
  (await import('./prompts.js')).guardTerminal();
  const { input } = await import('@inquirer/prompts');
  const { RefusedError, asCancelled } = await import('../errors.js');
  const svc = await import('../services/checkout.js');
  const { resolveNow } = await import('../services/ledger.js');
  for (;;) {
    let code: string;
    try {
      code = await input({ message: `One-time code for ${checkoutId}`, validate: (v) => (/^\d{6}$/.test(v.trim()) ? true : 'six digits') });
    } catch (e) {
      const cancel = asCancelled(e);
      if (!cancel) throw e;
      // a hold started earlier (checkout start) stays for its operator to finish: say so, and how
      if (!how.own) cancel.note = `checkout ${checkoutId} is still held (its points and stock) until it is confirmed, cancelled or expires: confirm it with pointsmall checkout confirm ${checkoutId}, or release it with pointsmall checkout cancel ${checkoutId}`;
      throw cancel;
    }
    // the clock of the answer: the held points may have lapsed (§7) while the code was on its way
    const now = { ...ctx, now: resolveNow() };
    try {
      return await svc.confirmCheckout(now, checkoutId, { ...opts, code: code.trim() });
    } catch (e) {
      if (!(e instanceof RefusedError) || e.code !== 'CODE_WRONG') throw e;
      say(c.red(e.message));
    }
  }
}
