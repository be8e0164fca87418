// A PostgreSQL exec that writes only the connection's temp tables is not a write (no writer lock, no data
// version): tempOnly must never take a statement that changes the ledger for one.
import { describe, expect, it } from 'vitest';
import { tempOnly } from '../../src/store/pg/database.js';

describe('tempOnly', () => {
  it('takes scratch statements on temp tables for what they are', () => {
    expect(tempOnly('CREATE TEMP TABLE x (a INTEGER); INSERT INTO temp.x SELECT id FROM lots; DELETE FROM temp.x')).toBe(true);
    expect(tempOnly('create temporary table y (a integer)')).toBe(true);
    expect(tempOnly('INSERT INTO pg_temp.x VALUES (1);')).toBe(true);
  });

  it('takes any statement on the ledger for a write, also one after scratch statements', () => {
    expect(tempOnly('')).toBe(false);
    expect(tempOnly('INSERT INTO lots VALUES (1)')).toBe(false);
    expect(tempOnly('CREATE TEMP TABLE x (a INTEGER); DELETE FROM lots')).toBe(false);
    expect(tempOnly('WITH d AS (DELETE FROM lots RETURNING id) INSERT INTO temp.x SELECT id FROM d')).toBe(false);
    expect(tempOnly('UPDATE temp.x SET a = 1')).toBe(false); // not a form the store uses: a write to be safe
  });

  it('reads a semicolon inside a string literal to the safe side', () => {
    // each real statement still begins a piece; the literal's split only adds pieces that fail to match
    expect(tempOnly("INSERT INTO lots VALUES ('a;INSERT INTO temp.x VALUES (1)')")).toBe(false);
    expect(tempOnly("INSERT INTO temp.x VALUES ('a;b'); UPDATE lots SET points = 0")).toBe(false);
    expect(tempOnly("INSERT INTO temp.x VALUES ('a; b')")).toBe(false);
  });
});
