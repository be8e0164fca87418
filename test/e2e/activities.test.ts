// Activities (issue 18): rules, `points award`, its limits, review of a frozen member's awards,
// `import activities`, and what ledger verify proves about them — through the built bin.
import { writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sceneLedger, type TmpLedger, openLedgerDb } from '../helpers/cli.js';

const RULES = { activities: [{ name: 'review', points: 20, maxPerDay: 1 }, { name: 'signup', points: 100, once: true }, { name: 'survey', points: 5, maxPerMonth: 2 }] };

/** Each test gets its own copy of the two members under these rules, set up once per file. */
function setup(rules: unknown = RULES): TmpLedger {
  return sceneLedger(`members ${JSON.stringify(rules)}`, (t) => {
    for (const id of ['M1', 'M2']) t.ok(['member', 'add', '--id', id, '--name', id]);
    const f = join(t.dir, 'rules.json');
    writeFileSync(f, JSON.stringify(rules));
    t.ok(['rules', 'apply', f, '--effective', '2026-01-01']);
  });
}

const award = (t: TmpLedger, member: string, activity: string, ref: string, at?: string) =>
  t.run(['points', 'award', '--member', member, '--activity', activity, '--ref', ref, ...(at ? ['--at', at] : []), '--json']);

const errorOf = (r: { stderr: string }) => JSON.parse(r.stderr.trim().split('\n').pop()!).error as { code: string; message: string };
const entries = (t: TmpLedger) => (t.ok(['ledger', 'entries']) as unknown[]).length;

describe('points award', () => {
  it('credits the activity as a lot with the rules\' expiry, its own entry kind, in member history with activity and ref', () => {
    const t = setup();
    const r = award(t, 'M1', 'review', 'REVIEW-123');
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ activity: 'review', ref: 'REVIEW-123', memberId: 'M1', status: 'awarded', points: 20, expiresOn: '2027-11-23', balance: 20, replayed: false });
    const m = t.ok(['member', 'show', 'M1']);
    expect(m.lots).toEqual([expect.objectContaining({ points: 20, remaining: 20, expiresOn: '2027-11-23' })]);
    expect(m.lifetimeEarned).toBe(20);
    const h = t.ok(['member', 'history', 'M1']);
    expect(h.lines).toEqual([expect.objectContaining({ kind: 'award', ref: 'review:REVIEW-123', memo: 'activity review', points: 20, balance: 20 })]);
    expect(t.ok(['ledger', 'entries', '--kind', 'award'])).toHaveLength(1);
    expect((t.ok(['audit', 'list']) as { action: string }[]).some((a) => a.action === 'activity.award')).toBe(true);
    expect(t.verify().ok).toBe(true);
  });

  it('a repeat returns the first result, marked replayed, and moves nothing; the same ref with another member is exit 3', () => {
    const t = setup();
    const first = award(t, 'M1', 'review', 'REVIEW-123').json();
    const again = award(t, 'M1', 'review', 'REVIEW-123', '2026-11-20');
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ ...first, replayed: true });
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(20);
    const other = award(t, 'M2', 'review', 'REVIEW-123');
    expect(other.code).toBe(3);
    expect(other.stdout).toBe('');
    expect(errorOf(other).code).toBe('REF_TAKEN');
    expect(t.ok(['member', 'show', 'M2']).balance).toBe(0);
    // the same ref under another activity is another task
    expect(award(t, 'M2', 'signup', 'REVIEW-123').code).toBe(0);
    expect(t.verify().ok).toBe(true);
  });

  it('maxPerDay counts the ledger zone\'s calendar day: a second award that day is exit 3 naming the limit, the next day is fine', () => {
    const t = setup();
    expect(award(t, 'M1', 'review', 'R1', '2026-11-20 23:30').code).toBe(0);
    const n = entries(t);
    const second = award(t, 'M1', 'review', 'R2', '2026-11-20 00:10');
    expect(second.code).toBe(3);
    expect(errorOf(second)).toMatchObject({ code: 'ACTIVITY_LIMIT' });
    expect(errorOf(second).message).toMatch(/maxPerDay.*2026-11-20/);
    expect(entries(t)).toBe(n);
    // 2026-11-21 00:10 in Shanghai is still 2026-11-20 in UTC: the ledger's day counts
    expect(award(t, 'M1', 'review', 'R2', '2026-11-21T00:10:00+08:00').code).toBe(0);
    // another member has a day of their own
    expect(award(t, 'M2', 'review', 'R3', '2026-11-20 12:00').code).toBe(0);
  });

  it('once is once per member; maxPerMonth counts the calendar month', () => {
    const t = setup();
    expect(award(t, 'M1', 'signup', 'S1', '2026-03-01').code).toBe(0);
    const again = award(t, 'M1', 'signup', 'S2');
    expect(again.code).toBe(3);
    expect(errorOf(again).message).toMatch(/limit once/);
    expect(award(t, 'M2', 'signup', 'S3').code).toBe(0);

    expect(award(t, 'M1', 'survey', 'Q1', '2026-10-01 08:00').code).toBe(0);
    expect(award(t, 'M1', 'survey', 'Q2', '2026-10-31 22:00').code).toBe(0);
    const third = award(t, 'M1', 'survey', 'Q3', '2026-10-15');
    expect(third.code).toBe(3);
    expect(errorOf(third).message).toMatch(/maxPerMonth.*2026-10/);
    expect(award(t, 'M1', 'survey', 'Q3', '2026-11-01').code).toBe(0);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(100 + 5 * 3);
  });

  it('an unknown activity or member, an empty ref or a future --at is exit 2 and writes nothing', () => {
    const t = setup();
    const n = entries(t);
    const unknown = award(t, 'M1', 'tweet', 'T1');
    expect(unknown.code).toBe(2);
    expect(errorOf(unknown).code).toBe('UNKNOWN_ACTIVITY');
    expect(unknown.stderr).toMatch(/review, signup, survey/);
    expect(award(t, 'NOPE', 'review', 'T1').code).toBe(2);
    expect(award(t, 'M1', 'review', '').code).toBe(2);
    expect(award(t, 'M1', 'review', 'T1', '2026-12-01').code).toBe(2);
    expect(award(t, 'M1', 'review', 'T1', '2026-02-30').code).toBe(2);
    expect(t.run(['points', 'award', '--member', 'M1', '--activity', 'review', '--json']).code).toBe(2);
    expect(entries(t)).toBe(n);
  });

  it('the rules version in force at the award\'s time decides its points, limits and expiry', () => {
    const t = setup();
    const v3 = join(t.dir, 'v3.json');
    writeFileSync(v3, JSON.stringify({ expiry: { policy: 'never' }, activities: [{ name: 'review', points: 50 }, { name: 'webinar', points: 30 }] }));
    t.ok(['rules', 'apply', v3, '--effective', '2026-11-01']);
    expect(award(t, 'M1', 'review', 'OLD', '2026-10-15').json()).toMatchObject({ points: 20, expiresOn: '2027-10-15', rulesVersion: 2 });
    expect(award(t, 'M1', 'review', 'NEW', '2026-11-15').json()).toMatchObject({ points: 50, expiresOn: null, rulesVersion: 3 });
    // no maxPerDay in version 3
    expect(award(t, 'M1', 'review', 'NEW2', '2026-11-15').code).toBe(0);
    const before = award(t, 'M1', 'webinar', 'W1', '2026-10-20');
    expect(before.code).toBe(2);
    expect(errorOf(before).message).toMatch(/version 2/);
    expect(award(t, 'M1', 'webinar', 'W1', '2026-11-20').code).toBe(0);
    expect(t.verify().ok).toBe(true);
  });

  it('rules apply names the JSON path of a bad activity and stores nothing', () => {
    const t = setup();
    const f = join(t.dir, 'bad.json');
    writeFileSync(f, JSON.stringify({ activities: [{ name: 'review', points: -5, maxPerDay: 'two' }] }));
    const r = t.run(['rules', 'apply', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/\$\.activities\[0\]\.points/);
    expect(r.stderr).toMatch(/\$\.activities\[0\]\.maxPerDay/);
    expect(t.ok(['rules', 'history'])).toHaveLength(2);
  });
});

describe('a frozen member\'s award waits in review', () => {
  it('is not credited, shows in review list, and approve credits it with the expiry of its time', () => {
    const t = setup();
    t.ok(['member', 'freeze', 'M1', '--reason', 'checking']);
    const r = award(t, 'M1', 'review', 'R1', '2026-11-01 09:00');
    expect(r.code).toBe(0);
    const first = r.json();
    expect(first).toMatchObject({ status: 'review', points: 20, entryId: null, balance: 0 });
    expect(award(t, 'M1', 'review', 'R1').json()).toEqual({ ...first, replayed: true });
    // a pending award counts against the limit
    expect(award(t, 'M1', 'review', 'R2', '2026-11-01 18:00').code).toBe(3);
    const list = t.ok(['review', 'list']);
    expect(list).toEqual([expect.objectContaining({ id: `A${first.awardId}`, kind: 'activity', activity: 'review', orderId: 'R1', memberId: 'M1', status: 'pending' })]);
    expect(t.run(['review', 'approve', 'R1', '--json']).code).toBe(3); // still frozen
    t.ok(['member', 'unfreeze', 'M1']);
    const ok = t.ok(['review', 'approve', 'R1', '--note', 'fine']);
    expect(ok).toMatchObject({ status: 'approved', points: 20, balance: 20 });
    expect(t.ok(['member', 'show', 'M1']).lots).toEqual([expect.objectContaining({ points: 20, earnedAt: '2026-11-01T01:00:00.000Z', expiresOn: '2027-11-01' })]);
    expect(t.run(['review', 'approve', `A${first.awardId}`, '--json']).code).toBe(3); // already decided
    expect(t.ok(['review', 'list'])).toEqual([]);
    expect(t.verify().ok).toBe(true);
  });

  it('reject leaves it uncredited and frees its place in the limits', () => {
    const t = setup();
    t.ok(['member', 'freeze', 'M1', '--reason', 'checking']);
    const a = award(t, 'M1', 'signup', 'S1').json();
    expect(t.ok(['review', 'reject', `A${a.awardId}`])).toMatchObject({ status: 'rejected', points: 0 });
    t.ok(['member', 'unfreeze', 'M1']);
    expect(award(t, 'M1', 'signup', 'S2').json()).toMatchObject({ status: 'awarded', points: 100 });
    expect(t.ok(['review', 'list', '--status', 'all'])).toEqual([expect.objectContaining({ id: `A${a.awardId}`, status: 'rejected' })]);
    expect(t.verify().ok).toBe(true);
  });
});

describe('import activities', () => {
  it('awards each row, counts duplicates, rejects bad rows with line and reason, exit 4', () => {
    const t = setup();
    const f = join(t.dir, 'acts.csv');
    writeFileSync(
      f,
      [
        'activity,member_id,ref,occurred_at',
        'review,M1,R1,2026-11-20 10:00',
        'review,M1,R2,2026-11-20 11:00', // second review that day: maxPerDay
        'signup,M2,S1,2026-11-02',
        'review,M1,R1,2026-11-20 10:00', // the same award again: a duplicate
        'review,M2,R1,2026-11-21', // the ref of M1's award
        'tweet,M1,T1,2026-11-21', // unknown activity
        'review,NOPE,R9,2026-11-21', // unknown member
        'review,M2,R8,2026-13-01', // bad date
        'review,M2,R7,2026-12-25', // future
      ].join('\n') + '\n',
    );
    const r = t.run(['import', 'activities', f, '--json']);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ rows: 9, awarded: 2, duplicates: 1, review: 0, rejected: 6, pointsAwarded: 120, dryRun: false, firstOccurredAt: '2026-11-01T16:00:00.000Z', lastOccurredAt: '2026-11-20T02:00:00.000Z' });
    const rejects = readFileSync(join(t.dir, 'acts.rejects.csv'), 'utf8');
    for (const line of ['3,', '6,', '7,', '8,', '9,', '10,']) expect(rejects).toMatch(new RegExp(`^${line}`, 'm'));
    expect(rejects).toMatch(/maxPerDay/);
    expect(rejects).toMatch(/already awarded to member M1/);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(20);
    expect(t.ok(['member', 'show', 'M2']).balance).toBe(100);
    // running it again accrues nothing twice
    const again = t.run(['import', 'activities', f, '--json']).json();
    expect(again).toMatchObject({ awarded: 0, duplicates: 3 });
    expect(again.firstRejects).toHaveLength(5);
    expect(again.firstRejects[0]).toMatchObject({ line: 3 });
    // a person sees the first rejected rows, where all of them are and how to import them again, as the other imports say it
    const shown = t.run(['import', 'activities', f]).stderr;
    expect(shown).toContain(`${f}:3: `);
    expect(shown).toContain('… and 1 more');
    expect(shown).toMatch(/6 rows rejected, every one in .*acts\.rejects\.csv/);
    expect(shown).toMatch(/import that file again: pointsmall import activities .*acts\.rejects\.csv/);
    expect(t.verify().ok).toBe(true);
  });

  it('takes --map, --date-format, --delimiter; --dry-run writes nothing; a frozen member\'s rows go to review', () => {
    const t = setup();
    t.ok(['member', 'freeze', 'M2', '--reason', 'checking']);
    const f = join(t.dir, 'acts.csv');
    writeFileSync(f, 'Task;Card;Id;When\nreview;M1;R1;11/20/2026 9:30\nsurvey;M2;Q1;11/21/2026 9:30\n');
    const args = ['import', 'activities', f, '--map', 'activity=Task', '--map', 'member_id=Card', '--map', 'ref=Id', '--map', 'occurred_at=When', '--date-format', 'M/D/YYYY H:mm', '--delimiter', 'semicolon'];
    const n = entries(t);
    const dry = t.ok([...args, '--dry-run']);
    expect(dry).toMatchObject({ awarded: 1, review: 1, rejected: 0, pointsAwarded: 20, dryRun: true });
    expect(entries(t)).toBe(n);
    expect(t.ok(['review', 'list'])).toEqual([]);
    const real = t.ok(args);
    expect(real).toMatchObject({ awarded: 1, review: 1, dryRun: false, byActivity: [{ activity: 'review', awarded: 1, points: 20 }] });
    expect(t.ok(['review', 'list'])).toHaveLength(1);
    expect(existsSync(join(t.dir, 'acts.rejects.csv'))).toBe(false);
  });

  it('a ref repeated in one file with another occurred_at is a conflict, never a duplicate: every row of it is rejected', () => {
    const t = setup();
    const f = join(t.dir, 'acts.csv');
    // R1's rows disagree on its time: whichever came first would win (and here maxPerDay would make it the 3rd)
    writeFileSync(f, 'activity,member_id,ref,occurred_at\nreview,M1,R1,2026-11-02 10:00\nreview,M1,R2,2026-11-02 09:00\nreview,M1,R1,2026-11-03 10:00\nreview,M1,R1,2026-11-02 10:00\nreview,M2,R2,2026-11-04 10:00\n');
    const r = t.run(['import', 'activities', f, '--json', '--rejects', join(t.dir, 'r.csv')]);
    expect(r.code).toBe(4);
    expect(r.json()).toMatchObject({ rows: 5, awarded: 1, duplicates: 0, rejected: 4, pointsAwarded: 20 });
    const rejects = readFileSync(join(t.dir, 'r.csv'), 'utf8');
    for (const line of [2, 4, 5]) expect(rejects).toMatch(new RegExp(`^${line},"review R1 of member M1 appears on lines 2, 4, 5 with different occurred_at`, 'm'));
    // another member's row of a ref is refused as the ref taken, as before
    expect(rejects).toMatch(/^6,"review R2 was already awarded to member M1, not M2"/m);
    expect(t.ok(['member', 'show', 'M1']).balance).toBe(20);
    expect(t.verify().ok).toBe(true);
  });

  it('a missing column is exit 2 naming it', () => {
    const t = setup();
    const f = join(t.dir, 'acts.csv');
    writeFileSync(f, 'activity,member_id,occurred_at\nreview,M1,2026-11-20\n');
    const r = t.run(['import', 'activities', f]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/missing column\(s\) ref/);
  });
});

describe('ledger verify and awards', () => {
  it('fails when an award\'s points, key or entry are changed behind the journal\'s back', () => {
    const t = setup();
    award(t, 'M1', 'review', 'R1');
    award(t, 'M2', 'signup', 'S1');
    const db = openLedgerDb(t.db);
    db.prepare("UPDATE activity_awards SET points = 30 WHERE ref = 'R1'").run();
    db.close();
    let v = t.verify();
    expect(v.ok).toBe(false);
    expect(v.checks.find((c) => c.name === 'activity-awards-match-entries')).toMatchObject({ ok: false, detail: expect.stringMatching(/award review:R1: records 30 points but entry 1 credited 20/) });
    const db2 = openLedgerDb(t.db);
    db2.prepare("UPDATE activity_awards SET points = 20, ref = 'R1b' WHERE ref = 'R1'").run();
    db2.prepare("DELETE FROM activity_awards WHERE ref = 'S1'").run();
    db2.close();
    v = t.verify();
    const detail = v.checks.find((c) => c.name === 'activity-awards-match-entries')!.detail;
    expect(detail).toMatch(/its key was changed/);
    expect(detail).toMatch(/entry 2 \(award\): is claimed by no award/);
  });
});

describe('reports split issued points by purchases, activities and adjustments', () => {
  it('report summary and report activity give issuedBy, in JSON and CSV', () => {
    const t = setup();
    const f = join(t.dir, 'p.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nO1,M1,2026-11-20 10:00,100.00\nO2,M2,2026-11-21 10:00,30.00\n');
    t.ok(['import', 'purchases', f]);
    award(t, 'M1', 'review', 'R1', '2026-11-20 12:00');
    award(t, 'M2', 'signup', 'S1', '2026-11-21 12:00');
    t.ok(['member', 'adjust', 'M1', '--points', '50', '--reason', 'goodwill']);
    t.ok(['member', 'adjust', 'M1', '--points', '-10', '--reason', 'fix', '--yes']);
    const s = t.ok(['report', 'summary', '--from', '2026-11-01', '--to', '2026-11-30']);
    expect(s).toMatchObject({ issued: 250, adjusted: 40, issuedBy: { purchases: 130, activities: 120, adjustments: 50 } });
    expect(s.reconciliation.ok).toBe(true);
    const a = t.ok(['report', 'activity', '--by', 'day', '--from', '2026-11-20', '--to', '2026-11-23']);
    expect(a.buckets.map((b: { bucket: string; issuedBy: unknown }) => [b.bucket, b.issuedBy])).toEqual([
      ['2026-11-20', { purchases: 100, activities: 20, adjustments: 0 }],
      ['2026-11-21', { purchases: 30, activities: 100, adjustments: 0 }],
      ['2026-11-22', { purchases: 0, activities: 0, adjustments: 0 }],
      ['2026-11-23', { purchases: 0, activities: 0, adjustments: 50 }],
    ]);
    expect(a.totals.issuedBy).toEqual({ purchases: 130, activities: 120, adjustments: 50 });
    const csv = t.run(['report', 'activity', '--by', 'month', '--format', 'csv']).stdout.split(/\r?\n/);
    expect(csv[0]).toMatch(/from purchases,from activities,adjust credits$/);
    expect(csv[1]).toMatch(/^2026-11,.*,130,120,50$/);
    const sumCsv = t.run(['report', 'summary', '--format', 'csv']).stdout;
    expect(sumCsv).toMatch(/from purchases,from activities,adjust credits/);
  });
});

describe('import activities: a file whose every row is rejected', () => {
  it('is exit 2, writes nothing (not even an audit record), and still writes the rejects file', () => {
    const t = setup();
    const f = join(t.dir, 'bad.csv');
    writeFileSync(f, 'activity,member_id,ref,occurred_at\ntweet,M1,T1,2026-11-20\nreview,NOPE,R1,2026-11-20\n');
    const audits = (t.ok(['audit', 'list']) as unknown[]).length;
    const r = t.run(['import', 'activities', f, '--json']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(errorOf(r).message).toMatch(/every row was rejected, 2 of them \(the first, line 2:/);
    expect((t.ok(['audit', 'list']) as unknown[]).length).toBe(audits);
    expect(readFileSync(join(t.dir, 'bad.rejects.csv'), 'utf8')).toMatch(/^3,/m);
  });
});
