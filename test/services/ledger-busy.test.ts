// SQLITE_BUSY met by any statement of a command (not only its BEGIN): a transient lock of another
// process, e.g. while its last connection checkpoints and removes the WAL. The command must fail with
// BusyError (exit 5), never an internal error, and the ledger must stay usable.
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { BusyError } from '../../src/errors.js';
import { withLedger } from '../../src/services/ledger.js';
import { members } from '../../src/store/members.js';
import { tmpCtx } from '../helpers/store.js';

describe('withLedger', () => {
  it('turns SQLITE_BUSY from any statement into BusyError, rolling back the write in progress', async () => {
    const ctx = await tmpCtx();
    const run = withLedger(
      ctx,
      (l) =>
        l.store.write(() => {
          l.store.get(members).insert({ id: 'M1', name: 'Ann', phone: null, email: null, tier: null }, l.nowIso);
          // what better-sqlite3 throws when a statement stays locked past the busy timeout
          throw new Database.SqliteError('database is locked', 'SQLITE_BUSY');
        }),
      { busyTimeoutMs: 50 },
    );
    await expect(run).rejects.toBeInstanceOf(BusyError);
    await expect(run).rejects.toThrow(/stayed locked .* 50 ms/);
    expect(await withLedger(ctx, (l) => l.store.get(members).get('M1') ?? null)).toBeNull();
  });

  it('leaves other errors as they are', async () => {
    const ctx = await tmpCtx();
    const failing = withLedger(ctx, () => {
      throw new Database.SqliteError('disk I/O error', 'SQLITE_IOERR');
    });
    await expect(failing).rejects.toThrow('disk I/O error');
    await expect(failing).rejects.not.toBeInstanceOf(BusyError);
  });
});
