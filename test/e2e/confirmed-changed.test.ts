// SPEC §7 "What is confirmed is what is done" for voids and debits (hostile trial, findings 4 and 8): on a
// terminal the question names the figures; another till that changes them before the answer (here a spend,
// run while the question waits) makes the yes a refusal, exit 3, with nothing written. Skips without tmux.
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { FIXTURES, sceneLedger, type TmpLedger } from '../helpers/cli.js';
import { endSessions, hasTmux, keys, screenJoined, start, waitFor } from '../helpers/tmux.js';

afterEach(endSessions);

/** waitFor on the screen read as one line: the questions are longer than 80 columns, and the prompt wraps them itself. */
async function waitJoined(s: string, text: RegExp): Promise<string> {
  const until = Date.now() + 120_000; // only bounds a hang
  for (;;) {
    const out = screenJoined(s).replace(/\s+/g, ' ');
    if (text.test(out)) return out;
    if (out.includes('EXIT=') || Date.now() > until) throw new Error(`the screen does not show ${text}:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const NOW = '2026-11-20T02:00:00Z';

/** The fixtures' rules, catalog and members; M001 earned 5000 points with import run 1 (order T1). */
function imported(): TmpLedger {
  return sceneLedger('fixtures + T1 imported', (t) => {
    t.ok(['rules', 'apply', join(FIXTURES, 'rules.json'), '--effective', '2024-01-01'], { now: NOW });
    t.ok(['catalog', 'import', join(FIXTURES, 'catalog.csv')], { now: NOW });
    t.ok(['member', 'import', join(FIXTURES, 'members.csv')], { now: NOW });
    const f = join(t.dir, 't1.csv');
    writeFileSync(f, 'order_id,member_id,purchased_at,amount\nT1,M001,2026-11-19 10:00,5000.00\n');
    t.ok(['import', 'purchases', f], { now: NOW });
  });
}

/** What a refused yes must leave as it was: the member, the runs, the journal and the audit log. */
const state = (t: TmpLedger) =>
  JSON.stringify([t.ok(['member', 'show', 'M001'], { now: NOW }), t.ok(['import', 'list'], { now: NOW }), t.ok(['audit', 'list'], { now: NOW }), t.verify().entries]);

/** Another till spends 3000 of M001's points (GIFT-001) while the question waits. */
const spend = (t: TmpLedger) => expect(t.ok(['checkout', '--member', 'M001', '--item', 'GIFT-001', '--yes'], { now: NOW })).toMatchObject({ status: 'paid', pointsUsed: 3000 });

/** The other till spends while the question waits, then the operator answers yes: the state before the yes, and the screen after it. */
async function yesAfterSpend(s: string, t: TmpLedger): Promise<{ before: string; out: string }> {
  spend(t);
  const before = state(t);
  keys(s, 'y', 'Enter');
  await waitFor(s, 'EXIT=');
  return { before, out: screenJoined(s).replace(/\s+/g, ' ') };
}

describe.skipIf(!hasTmux)('a void whose figures changed between the question and the answer', () => {
  for (const [name, args] of [
    ['import void RUN', ['import', 'void', '1']],
    ['purchase void SOURCE ORDER', ['purchase', 'void', 'default', 'T1']],
  ] as const) {
    it(`${name}: a debt that appeared meanwhile is refused with exit 3 and nothing is written`, async () => {
      const t = imported();
      const s = start(t, [...args], { width: 80, now: NOW });
      await waitJoined(s, /5000 points taken back, 1 member affected\?/);
      expect(screenJoined(s)).not.toContain('debt');
      const { before, out } = await yesAfterSpend(s, t);
      expect(out).toContain('EXIT=3');
      expect(out).toContain(
        'error: the void changed since it was confirmed: now 1 order, 5000 points taken back, 3000 points already spent or held by a checkout become debt, 1 member affected, ' +
          'confirmed 1 order, 5000 points taken back, 0 points already spent or held by a checkout become debt, 1 member affected; nothing was voided',
      );
      expect(out).toMatch(/hint: run it again and check the figures/);
      expect(state(t)).toBe(before);
      expect(t.ok(['member', 'show', 'M001'], { now: NOW })).toMatchObject({ balance: 2000, debt: 0 });
      // asked again, the question names the debt, and the void does exactly that
      const again = start(t, [...args], { width: 80, now: NOW });
      await waitJoined(again, /3000 points already spent or held by a checkout become debt\?/);
      keys(again, 'y', 'Enter');
      expect(await waitFor(again, 'EXIT=')).toContain('EXIT=0');
      expect(t.ok(['member', 'show', 'M001'], { now: NOW })).toMatchObject({ balance: -3000, debt: 3000 });
      expect(t.verify().ok).toBe(true);
    }, 300_000);
  }

  it('a change that leaves every figure as asked does not stop the void', async () => {
    const t = imported();
    const s = start(t, ['import', 'void', '1'], { width: 80, now: NOW });
    await waitJoined(s, /5000 points taken back, 1 member affected\?/);
    t.ok(['member', 'adjust', 'M002', '--points', '100', '--reason', 'another member'], { now: NOW });
    keys(s, 'y', 'Enter');
    expect(await waitFor(s, 'EXIT=')).toContain('EXIT=0');
    expect(t.ok(['member', 'show', 'M001'], { now: NOW })).toMatchObject({ balance: 0, debt: 0 });
  }, 300_000);
});

describe.skipIf(!hasTmux)('a debit whose available balance changed between the question and the answer', () => {
  it('is refused with exit 3 and nothing is written; asked again, it names the new balance', async () => {
    const t = imported();
    t.ok(['member', 'adjust', 'M001', '--points', '5000', '--reason', 'seed'], { now: NOW }); // available 10000
    const s = start(t, ['member', 'adjust', 'M001', '--points', '-4000', '--reason', 'fix'], { width: 80, now: NOW });
    await waitJoined(s, /Take 4000 points from M001 \(Wang Fang; available 10000 → 6000\)/);
    const { before, out } = await yesAfterSpend(s, t);
    expect(out).toContain('EXIT=3');
    expect(out).toMatch(/error: member M001's available balance changed since the debit was confirmed: now 7000, confirmed 10000; nothing was taken/);
    expect(out).toMatch(/hint: run it again and check the figures/);
    expect(out).not.toMatch(/available now/);
    expect(state(t)).toBe(before);
    const again = start(t, ['member', 'adjust', 'M001', '--points', '-4000', '--reason', 'fix'], { width: 80, now: NOW });
    await waitJoined(again, /available 7000 → 3000\)/);
    keys(again, 'y', 'Enter');
    expect(await waitFor(again, 'EXIT=')).toContain('available now 3000');
    expect(t.ok(['member', 'show', 'M001'], { now: NOW })).toMatchObject({ balance: 3000 });
    expect(t.verify().ok).toBe(true);
  }, 300_000);
});
