// Passwords of PostgreSQL URLs never reach a message: maskPasswords, which every PointsmallError and the
// error printer apply (trial 38b finding 1, trial 38c finding 2).
import { describe, expect, it } from 'vitest';
import { PointsmallError, UsageError, maskPasswords } from '../../src/errors.js';

describe('maskPasswords', () => {
  it.each([
    ['the ledger postgres://pmuser:Hunter2Secret@127.0.0.1:5432/t2 stayed locked', 'the ledger postgres://pmuser:***@127.0.0.1:5432/t2 stayed locked'],
    // a space or an @ in the password, which the driver accepts unencoded
    ['cannot connect to postgres://pw:SEC RET@127.0.0.1:5432/nodb: database "nodb" does not exist', 'cannot connect to postgres://pw:***@127.0.0.1:5432/nodb: database "nodb" does not exist'],
    ['postgres://pw:p@ssSECRET@127.0.0.1:5432/nodb', 'postgres://pw:***@127.0.0.1:5432/nodb'],
    ['postgresql://u:p%40ss@h/db?application_name=till-2', 'postgresql://u:***@h/db?application_name=till-2'],
    // a password parameter, the words after it kept
    ['postgresql://h/db?sslmode=disable&password=sek&x=1', 'postgresql://h/db?sslmode=disable&password=***&x=1'],
    ['cannot connect to postgres://h/db?password=X: database "nodb" does not exist', 'cannot connect to postgres://h/db?password=***: database "nodb" does not exist'],
    ['see postgres://a:b@h/x and postgres://c:d@h/y', 'see postgres://a:***@h/x and postgres://c:***@h/y'],
  ])('%s', (text, masked) => {
    expect(maskPasswords(text)).toBe(masked);
  });

  it('leaves a URL without a password, and other text, as it is', () => {
    for (const t of ['postgres://u@h:5432/db', 'postgres://', 'ledger.db', 'mail a@b.example']) expect(maskPasswords(t)).toBe(t);
  });

  it('every error masks its message and hint when it is made', () => {
    const e = new UsageError('cannot use postgres://u:secret@h/db', 'try postgres://u:secret@h/other');
    expect(e.message).toBe('cannot use postgres://u:***@h/db');
    expect(e.hint).toBe('try postgres://u:***@h/other');
    expect(new PointsmallError('x postgres://u:secret@h/db', { code: 'X', exitCode: 2 }).message).not.toContain('secret');
  });
});
