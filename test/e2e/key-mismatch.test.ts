// A keyed chain is continued only with its own key (POINTSMALL_LEDGER_KEY_FILE): a till configured with another
// key file was let write, and from then on no key verified the ledger. Both backends.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tmpLedger } from '../helpers/cli.js';

describe('a keyed chain refuses a write with another key', () => {
  it('exit 2 LEDGER_KEY_MISMATCH, nothing written, for an adjust and an import; the right key goes on writing', () => {
    const t = tmpLedger();
    const key = join(t.dir, 'ledger.key');
    const other = join(t.dir, 'other.key');
    writeFileSync(key, 'c0ffee'.repeat(8) + '\n', { mode: 0o600 });
    writeFileSync(other, 'decade'.repeat(8) + '\n', { mode: 0o600 });
    const right = { POINTSMALL_LEDGER_KEY_FILE: key };
    const wrong = { POINTSMALL_LEDGER_KEY_FILE: other };
    t.ok(['member', 'add', '--id', 'a', '--name', 'A']); // a plain chain first: the key takes over from the next entry
    t.ok(['member', 'adjust', 'a', '--points', '1000', '--reason', 'seed', '--yes'], { env: right });
    const entries = t.ok(['ledger', 'entries']).length;

    const adjust = t.run(['member', 'adjust', 'a', '--points', '5', '--reason', 'oops', '--yes', '--json'], { env: wrong });
    expect(adjust.code, adjust.stderr).toBe(2);
    expect(adjust.stdout).toBe('');
    const err = JSON.parse(adjust.stderr.trim()).error;
    expect(err.code).toBe('LEDGER_KEY_MISMATCH');
    expect(err.message).toMatch(/^entry \d+, the head of this ledger's keyed chain, does not verify with the key in POINTSMALL_LEDGER_KEY_FILE/);
    expect(err.hint).toMatch(/the key file the ledger was written with/);

    const csv = join(t.dir, 'p.csv');
    writeFileSync(csv, 'order_id,member_id,purchased_at,amount\nO1,a,2026-11-01 10:00,10.00\n');
    const imported = t.run(['import', 'purchases', csv, '--json'], { env: wrong });
    expect(imported.code, imported.stderr).toBe(2);
    expect(JSON.parse(imported.stderr.trim()).error.code).toBe('LEDGER_KEY_MISMATCH');

    expect(t.ok(['ledger', 'entries']).length).toBe(entries);
    expect(t.ok(['member', 'show', 'a']).balance).toBe(1000);
    expect(t.run(['ledger', 'verify', '--json'], { env: right }).code).toBe(0);
    // the right key goes on: the same import, then verify
    expect(t.ok(['import', 'purchases', csv], { env: right })).toMatchObject({ accepted: 1 });
    expect(t.ok(['member', 'adjust', 'a', '--points', '1', '--reason', 'next', '--yes'], { env: right }).available).toBe(1011);
    expect(t.run(['ledger', 'verify', '--json'], { env: right }).code).toBe(0);
  });
});
