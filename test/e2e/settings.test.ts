import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

describe('db set', () => {
  it('changes how long checkout holds last, audited, and refuses bad values with exit 2', () => {
    const t = tmpLedger();
    expect(t.ok(['db', 'info']).holdMinutes).toBe(15);
    expect(t.ok(['db', 'set', 'hold-minutes', '30'])).toEqual({ setting: 'hold-minutes', value: '30', previous: '15' });
    expect(t.ok(['db', 'info']).holdMinutes).toBe(30);
    for (const bad of ['0', 'abc', '1e3', '-5']) expect(t.run(['db', 'set', 'hold-minutes', bad]).code).toBe(2);
    expect(t.run(['db', 'set', 'currency', 'USD']).code).toBe(2);
    const audit = t.ok(['audit', 'list']);
    expect(audit.filter((a: { action: string }) => a.action === 'db.set')).toHaveLength(1);
    expect(t.ok(['db', 'info']).holdMinutes).toBe(30);
  });
});
