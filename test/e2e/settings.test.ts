import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

describe('db set', () => {
  it('changes how long checkout holds last, audited, and refuses bad values with exit 2', () => {
    const t = tmpLedger();
    expect(t.ok(['db', 'info']).holdMinutes).toBe(15);
    expect(t.ok(['db', 'set', 'hold-minutes', '30'])).toEqual({ setting: 'hold-minutes', value: '30', previous: '15', default: '15' });
    expect(t.ok(['db', 'info']).holdMinutes).toBe(30);
    for (const bad of ['0', 'abc', '1e3', '-5']) expect(t.run(['db', 'set', 'hold-minutes', bad]).code).toBe(2);
    expect(t.run(['db', 'set', 'currency', 'USD']).code).toBe(2);
    const audit = t.ok(['audit', 'list']);
    expect(audit.filter((a: { action: string }) => a.action === 'db.set')).toHaveLength(1);
    expect(t.ok(['db', 'info']).holdMinutes).toBe(30);
  });

  it('changes how long a started payment fences its order (trial 24): db info shows it, bad values exit 2', () => {
    const t = tmpLedger();
    expect(t.ok(['db', 'info']).paymentMinutes).toBe(10);
    // 20, above the hold's 15 minutes: a started payment's hold lasts past its fence anyway (trial 28)
    expect(t.ok(['db', 'set', 'payment-minutes', '20'])).toEqual({ setting: 'payment-minutes', value: '20', previous: null, default: '10' });
    expect(t.ok(['db', 'set', 'hold-minutes', '30'])).toEqual({ setting: 'hold-minutes', value: '30', previous: '15', default: '15' });
    // never set before: the default it had, as db info showed it (trial 27)
    expect(tmpLedger().run(['db', 'set', 'payment-minutes', '5']).stdout).toMatch(/payment-minutes = 5 \(was 10, the default\)/);
    expect(t.ok(['db', 'info']).paymentMinutes).toBe(20);
    for (const bad of ['0', '121', 'x']) expect(t.run(['db', 'set', 'payment-minutes', bad]).code).toBe(2);
    // a payment started now fences its order for 20 minutes
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']);
    t.ok(['catalog', 'add', '--sku', 'TEA', '--name', 'Tea', '--price', '10.00']);
    const s = t.ok(['checkout', 'start', '--member', 'a', '--item', 'TEA', '--tender', 'card']);
    const kill = t.run(['checkout', 'confirm', s.checkoutId, '--yes', '--json'], { env: { POINTSMALL_PAYMENT_BARRIER: '/nonexistent-dir' } });
    expect(kill.code).not.toBe(0); // the test hook's barrier cannot be written: it dies inside its payment, the order fenced
    const shown = t.ok(['order', 'show', s.checkoutId]);
    expect(Date.parse(shown.payingUntil) - Date.parse(shown.createdAt)).toBe(20 * 60_000);
  });
});
