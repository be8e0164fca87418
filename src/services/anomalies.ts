// report anomalies (issue 18): members whose activity crosses the documented signals, with the evidence.
import { UsageError } from '../errors.js';
import { ANOMALY_THRESHOLDS, type AnomalyFinding, detectAnomalies } from '../domain/anomalies.js';
import { type LocalDate, localRangeUtc } from '../domain/time.js';
import { anomalyQueries } from '../store/anomalies.js';
import { members } from '../store/members.js';
import { OPEN_FROM, OPEN_TO } from '../store/reports.js';
import { type Ctx, withLedger } from './ledger.js';

export interface AnomalyReport {
  from: LocalDate | null;
  to: LocalDate | null;
  currency: string;
  thresholds: typeof ANOMALY_THRESHOLDS;
  /** Members crossing at least one signal, by id. */
  members: { memberId: string; name: string | null; signals: string[]; findings: AnomalyFinding[] }[];
}

const back = (iso: string, ms: number): string => (iso === OPEN_FROM ? OPEN_FROM : new Date(Date.parse(iso) - ms).toISOString());

export async function anomaliesReport(ctx: Ctx, p: { from?: LocalDate; to?: LocalDate }): Promise<AnomalyReport> {
  if (p.from && p.to && p.from > p.to) throw new UsageError(`--from ${p.from} is after --to ${p.to}`, 'both dates are inclusive; swap them');
  return withLedger(ctx, (l) =>
    l.store.read(() => {
      const r = localRangeUtc(l.zone, p.from, p.to);
      const from = r.fromIso ?? OPEN_FROM;
      const to = r.toIso ?? OPEN_TO;
      const t = ANOMALY_THRESHOLDS;
      const q = l.store.get(anomalyQueries);
      const found = detectAnomalies(
        {
          refunds: q.refunds(from, to),
          returns: q.purchases('return', from, to),
          purchases: q.purchases('purchase', back(from, t.quickReturnDays * 86_400_000), to),
          adjusts: q.adjusts(t.largeAdjustPoints, back(from, t.spendAfterAdjustHours * 3_600_000), to),
          pointsOrders: q.pointsOrders(from, to),
          contacts: q.contacts(),
        },
        l.digits,
      );
      const repo = l.store.get(members);
      return {
        from: p.from ?? null,
        to: p.to ?? null,
        currency: l.currency,
        thresholds: ANOMALY_THRESHOLDS,
        members: found.map((m) => ({ memberId: m.memberId, name: repo.get(m.memberId)?.name ?? null, signals: m.findings.map((f) => f.signal), findings: m.findings })),
      };
    }),
  );
}
