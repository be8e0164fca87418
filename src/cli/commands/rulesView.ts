// The views of `rules simulate` (and the comparison `rules apply` shows before it asks): the same
// result object rendered as fields and tables, CSV (the groups) or an HTML page.
import type { SimulationReport } from '../../services/simulate.js';
import type { MultiplierNamingNothing, PinnedOutside } from '../../domain/rules.js';
import type { DraftMultiplier, LiabilityEstimate } from '../../domain/simulate.js';
import { monthsBetween } from '../charts.js';
import { shownName } from '../../domain/text.js';
import { type AnyRow, type View, num, period, signed } from './report.js';

const diffCol = { key: 'difference', header: 'difference', align: 'right' as const, format: signed };

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
/** A money difference with its sign, as the points differences show theirs: +1.20, -1.20, 0.00. */
const signedMoney = (v: string) => (/^[1-9]|^0\.\d*[1-9]/.test(v) ? `+${v}` : v);

/**
 * The comparison as fields. `forApply`: the one `rules apply` shows before it asks (its period is fixed, so
 * an empty one gets no hint to widen it: the command says what to run instead).
 */
export function simulateFields(r: SimulationReport, forApply = false): [string, string | number][] {
  const c = r.liabilityChange;
  return [
    ['draft', r.draft],
    ['period', period(r.from, r.to)],
    // a refund is no order: it is named beside them, not among them (the parts add up to the orders)
    ['orders', `${r.orders} (${r.purchases} imported, ${plural(r.checkouts, 'checkout')})${r.refunds ? `; ${plural(r.refunds, 'checkout refund')} besides` : ''}`],
    ['rules versions', r.rulesVersions.length ? r.rulesVersions.join(', ') : '-'],
    ...(r.orders === 0 && r.refunds === 0 && !forApply
      ? [['note', `no purchase, checkout or refund in ${period(r.from, r.to)}: nothing earned to re-run under the draft; widen --from/--to`] as [string, string]]
      : []),
    // earned as lifetimeEarned counts it: less what returns and refunds took back (report summary's issued is before those)
    ['points earned, actual', r.actualPoints],
    ['points earned, draft', r.simulatedPoints],
    ['difference', signed(r.difference)],
    // the replay takes the ledger's facts in purchase time; an order booked before an earlier-dated one
    // of its member was (a backdated import) was earned at the facts the ledger had then (trial 41)
    ...(r.bookedOtherwise
      ? [['estimate', `${r.bookedOtherwise === 1 ? '1 order was' : `${r.bookedOtherwise} orders were`} booked before an earlier-dated order of the same member (a backdated import or checkout, or an order approved from review after later ones): the ledger earned ${r.bookedOtherwise === 1 ? 'it' : 'them'} at the tier and day's credits it knew then, this replay at those it knows now, so the draft's points for ${r.bookedOtherwise === 1 ? 'it are an estimate' : 'them are estimates'}`] as [string, string]]
      : []),
    ['value, actual', `${r.actualValue} ${r.currency} (at ${r.redeemPointsPerUnit} points per unit)`],
    ['value, draft', `${r.simulatedValue} ${r.currency} (at ${r.draftRedeemPointsPerUnit} points per unit)`],
    ['value difference', `${signedMoney(r.valueDifference)} ${r.currency} (draft at ${r.draftRedeemPointsPerUnit}, actual at ${r.redeemPointsPerUnit} points per unit)`],
    ['members gaining', r.membersGaining],
    ['members losing', r.membersLosing],
    // a draft that gives more can still show members losing: their returns are taken back at its higher rate (trial 38, finding 2)
    ...(r.membersLosingOnTakeBacks
      ? [['note', `${r.membersLosingOnTakeBacks === r.membersLosing ? (r.membersLosing === 1 ? 'the member' : r.membersLosing === 2 ? 'both members' : `all ${r.membersLosing} members`) : `${r.membersLosingOnTakeBacks} of the ${r.membersLosing} members`} losing ${r.membersLosingOnTakeBacks === 1 ? 'has' : 'have'} returns or refunds the draft takes more back for: a take-back is computed at the tier and rules of its own date (SPEC §4.6), so it takes back more where the draft earns more on what was returned, or lifts the member's tier before the return`] as [string, string]]
      : []),
    // and one that gives less can show members gaining: their returns are taken back at its lower rate (trial 43)
    ...(r.membersGainingOnTakeBacks
      ? [['note', `${r.membersGainingOnTakeBacks === r.membersGaining ? (r.membersGaining === 1 ? 'the member' : r.membersGaining === 2 ? 'both members' : `all ${r.membersGaining} members`) : `${r.membersGainingOnTakeBacks} of the ${r.membersGaining} members`} gaining ${r.membersGainingOnTakeBacks === 1 ? 'has' : 'have'} returns or refunds the draft takes less back for: a take-back is computed under the draft too (SPEC §4.6), so a cap or a lower rate that earns less on the purchase also takes less back when it is returned`] as [string, string]]
      : []),
    [`outstanding at ${r.to}, actual`, `${c.actualPoints} points, ${c.actualValue} ${r.currency} (at ${r.redeemPointsPerUnit} points per unit)`],
    [`outstanding at ${r.to}, draft`, `${c.simulatedPoints} points, ${c.simulatedValue} ${r.currency} (at ${r.draftRedeemPointsPerUnit} points per unit)`],
    ['liability change', `${signed(c.points)} points, ${signedMoney(c.value)} ${r.currency}${c.estimated.length ? ' (an estimate: see below)' : ''}`],
    ...(c.actualDebt || c.simulatedDebt ? [['members\' debt, actual → draft', `${c.actualDebt} → ${c.simulatedDebt} points (not netted against the outstanding points)`] as [string, string]] : []),
    ...(c.estimated.length ? [['estimate', estimateWords(c.estimated, r.bookedOtherwise === 0)] as [string, string]] : []),
    ...(r.notSimulated.includes('expiry')
      ? [['not simulated', "the draft's expiry policy: what it would have lapsed is not reflected in the liability change"] as [string, string]]
      : []),
    ...(r.notSimulated.some((f) => f !== 'expiry')
      ? [['not simulated', `${r.notSimulated.filter((f) => f !== 'expiry').join(', ')}: changed by the draft, not reflected in the points above (the same orders earn again; reviews, points/cash splits, refused spends and awards are not replayed)${r.notSimulated.includes('redeem.pointsPerUnit') ? "; the values do use the draft's redeem rate" : ''}`] as [string, string]]
      : []),
    ...r.pinnedTiersNotInDraft.map((x): [string, string] => ['note', `${pinnedWords(x)}, which the draft does not define: simulated with no tier, as they would earn under it`]),
    ...r.unmatchedMultipliers.map((m): [string, string] => ['note', `${multiplierWords(m)} matched no line in the period${namingWords(r.multipliersNamingNothing, m)}`]),
    ...(r.by === 'category' && r.groups.length > 1 ? [['note', 'an order with lines of several categories counts once in each'] as [string, string]] : []),
    ...(r.by === 'category' && r.checkouts > 0
      ? [['note', "a checkout's points are shared over its lines by their cash (§4.5, as its refunds take them back), not by their multipliers: a draft that changes one line's earning moves its other lines' shares too"] as [string, string]]
      : []),
    ...r.overriddenMultipliers.map((m): [string, string] => [
      'note',
      `${multiplierWords(m)} matched lines in the period but applied to none: ${m.sku !== undefined ? `a larger multiplier of sku ${m.sku} was taken` : `their SKUs' own multipliers or a larger one of category ${m.category} were taken (a SKU's multiplier wins over its category's, even when smaller)`}`,
    ]),
  ];
}

/** Why the draft's outstanding and debt are an estimate (LiabilityChange.estimated); the points earned are exact. */
export function estimateWords(why: readonly LiabilityEstimate[], earnedExact = true): string {
  const parts = why.map((w) =>
    w === 'take-backs'
      ? 'returns or refunds take back other numbers of points under the draft, and from which lots (some lapsed since) is not replayed'
      : 'the draft moves members in debt, and what their later credits would have repaid first is not replayed',
  );
  return `the draft's outstanding points and debt: ${parts.join('; ')}${earnedExact ? ' (the points earned above are exact)' : ''}`;
}

/**
 * What the ledger names like a multiplier's SKU or category, when it names that one nowhere: "; the ledger
 * has category tea, which differs only in case or spacing: a multiplier matches its name exactly".
 */
export function namingWords(naming: readonly MultiplierNamingNothing[], m: { sku?: string; category?: string }): string {
  const on = m.sku !== undefined ? 'sku' : 'category';
  const x = naming.find((n) => n.on === on && n.value === (m.sku ?? m.category));
  if (!x) return '';
  const what = on === 'sku' ? 'SKU' : 'category';
  if (x.noCategories) return '; no catalog item and no line bought so far has any category (an import reads one with --map category=COLUMN), so it can match nothing';
  if (!x.near.length) return `; no ${what} of that name is in the catalog or any line bought so far`;
  return `; the ledger has ${what} ${x.near.map(shownName).join(', ')}, which differs only in case, spacing or look-alike characters: a multiplier matches its name exactly`;
}

/** "multiplier 3 (sku TEA-001, 2026-11-01 … 2026-11-30)". */
export function multiplierWords(m: DraftMultiplier): string {
  const window = m.from && m.to ? `, ${m.from} … ${m.to}` : m.from ? `, from ${m.from}` : m.to ? `, to ${m.to}` : '';
  return `multiplier ${m.multiplier} (${m.sku !== undefined ? `sku ${m.sku}` : `category ${m.category}`}${window})`;
}

/** "2 members are pinned to tier gold (M008, M011)". */
export function pinnedWords(x: PinnedOutside): string {
  const named = x.memberIds.join(', ') + (x.members > x.memberIds.length ? ` and ${x.members - x.memberIds.length} more` : '');
  return `${x.members} ${x.members === 1 ? 'member is' : 'members are'} pinned to tier ${x.tier} (${named})`;
}

export function simulateView(r: SimulationReport): View {
  // --by tier groups by the tier under the draft (the draft's thresholds and lifetime points)
  const by = r.by === 'tier' ? 'tier under the draft' : r.by;
  // by month, the chart keeps the months in between without orders as empty bars, each in its place
  const chartGroups =
    r.by === 'month' && r.groups.length
      ? monthsBetween(r.groups[0].key, r.groups[r.groups.length - 1].key).map((key) => r.groups.find((g) => g.key === key) ?? { key, actualPoints: 0, simulatedPoints: 0 })
      : r.groups;
  const groupColumns = [{ key: 'key', header: r.by }, num('orders'), num('actualPoints', 'actual'), num('simulatedPoints', 'draft'), diffCol];
  const memberColumns = [{ key: 'memberId', header: 'member' }, num('actualPoints', 'actual'), num('simulatedPoints', 'draft'), diffCol];
  return {
    name: 'simulate',
    command: 'rules simulate',
    title: `What-if: ${r.draft}`,
    subtitle: `${period(r.from, r.to)} · points the period's orders earned, and would have earned under the draft`,
    fields: simulateFields(r),
    sections: [
      {
        title: `By ${by}`,
        columns: groupColumns,
        rows: r.groups as AnyRow[],
        chart: {
          title: `Points earned by ${by}: actual and draft`,
          categories: chartGroups.map((g) => g.key),
          series: [
            { name: 'actual', colour: '#455a64', values: chartGroups.map((g) => g.actualPoints) },
            { name: 'draft', colour: '#2e7d32', values: chartGroups.map((g) => g.simulatedPoints) },
          ],
        },
      },
      { title: 'Members most affected', columns: memberColumns, rows: r.topMembers as AnyRow[] },
    ],
    csv: { columns: [{ key: 'key', header: r.by }, num('orders'), num('actualPoints'), num('simulatedPoints'), num('difference')], rows: r.groups as AnyRow[] },
  };
}
