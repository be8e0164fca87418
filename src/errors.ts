// The error taxonomy: each typed error carries its exit code; only cli/main.ts turns them into output.
import { idLookalikeProblem } from './domain/text.js';

export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  refused: 3,
  rejectedRows: 4,
  busy: 5,
  verifyFailed: 6,
  cancelled: 130,
} as const;

/**
 * The text with the password of every PostgreSQL URL in it masked (`postgres://user:***@host/db`, and a
 * `?password=` parameter): a message or a hint that names the ledger never shows it, whichever path built
 * it (cron mails what a job prints).
 */
export function maskPasswords(text: string): string {
  // (the password runs to the last @ before the host's path: it may hold a space or an @ the driver accepts)
  return text
    .replace(/(postgres(?:ql)?:\/\/[^:/@\s]*:)[^/]*@/gi, '$1***@')
    .replace(/(postgres(?:ql)?:\/\/\S*?[?&]password=)[^&\s]*?(?=[&\s]|:\s|:?$)/gi, '$1***');
}

export class PointsmallError extends Error {
  readonly exitCode: number;
  readonly code: string;
  readonly hint?: string;
  /** Facts a script needs besides the words, added to the error's JSON (what an import committed before it stopped). */
  details?: Record<string, unknown>;
  constructor(message: string, opts: { code: string; exitCode: number; hint?: string }) {
    super(maskPasswords(message));
    this.name = new.target.name;
    this.code = opts.code;
    this.exitCode = opts.exitCode;
    this.hint = opts.hint === undefined ? undefined : maskPasswords(opts.hint);
  }
  /** This error with `details` in its JSON. */
  with(details: Record<string, unknown>): this {
    this.details = { ...this.details, ...details };
    return this;
  }
}

/** Bad or unknown flag, bad value, unknown id, unreadable file: exit 2, nothing written. */
export class UsageError extends PointsmallError {
  constructor(message: string, hint?: string, code = 'USAGE') {
    super(message, { code, exitCode: EXIT.usage, hint });
  }
}

/**
 * Unknown member / SKU / order / checkout: a usage error with a NOT_FOUND code. An id that could pass for
 * another (a zero-width space, a decomposed accent, a fullwidth letter) says so first: on a screen it looks
 * like an id that exists.
 */
export class NotFoundError extends UsageError {
  constructor(what: string, id: string, hint?: string) {
    const lookalike = idLookalikeProblem(what, id);
    super(`${what} ${JSON.stringify(id)} not found${lookalike ? `; it ${lookalike.slice(what.length + JSON.stringify(id).length + 2)}` : ''}`, hint, 'NOT_FOUND');
  }
}

/** Refused by a business rule: exit 3. */
export class RefusedError extends PointsmallError {
  constructor(code: string, message: string, hint?: string) {
    super(message, { code, exitCode: EXIT.refused, hint });
  }
}

/** The ledger stayed locked past the busy timeout: exit 5. */
export class BusyError extends PointsmallError {
  /** @param hint what to do, when the command had committed something before the lock stopped it (an import's first batches) */
  constructor(path: string, timeoutMs: number, hint?: string) {
    super(`the ledger ${path} stayed locked by another process or connection (pointsmall, sqlite3, psql…) for ${timeoutMs} ms`, {
      code: 'LEDGER_BUSY',
      exitCode: EXIT.busy,
      hint: hint ?? 'nothing was written; run the command again, or raise POINTSMALL_BUSY_TIMEOUT (ms)',
    });
  }
}

/** An init that lost a race to another init of the same new ledger: the other's ledger stands (exit 2, nothing written). */
export function initRaceError(where: string): UsageError {
  return new UsageError(`a ledger already exists ${where}`, 'another pointsmall init made it at the same time; this one wrote nothing (pass --force to erase it and start again)');
}

/** A write refused because `db restore` is replacing the ledger's pages (exit 5, like a lock): nothing was written. */
export class RestoringError extends PointsmallError {
  constructor(path: string, since: string) {
    super(`the ledger ${path} is being replaced by db restore, init --force or demo --force (since ${since})`, {
      code: 'LEDGER_RESTORING',
      exitCode: EXIT.busy,
      hint: 'nothing was written; run the command again once that has finished (it names the ledger it kept aside)',
    });
  }
}

/**
 * The ledger was replaced while a command ran (init --force, demo or db restore copied other pages into the
 * file between two of its transactions): nothing more is written to it, which would mix two ledgers (trial
 * 40b: an import went on into the new one, naming a run that was not there). Exit 5, as a lock.
 */
export class LedgerReplacedError extends PointsmallError {
  constructor(path: string) {
    super(`the ledger ${path} was replaced while this command ran (init --force, demo or db restore): nothing more was written to it`, {
      code: 'LEDGER_REPLACED',
      exitCode: EXIT.busy,
      hint: 'what the command wrote before is in the copy that command kept aside (LEDGER.before-…); run it again on the ledger as it is now if it is still wanted',
    });
  }
}

/**
 * The database server refused the role what the command needed (PostgreSQL's insufficient_privilege): not
 * a bug, and nothing was written (the transaction rolled back). Exit 2.
 */
export class PermissionError extends PointsmallError {
  constructor(detail: string, readOnly = false) {
    super(readOnly ? `the database takes only reads on this connection: ${detail}` : `the database refused the command to this role: ${detail}`, {
      code: 'PERMISSION_DENIED',
      exitCode: EXIT.usage,
      hint: readOnly
        ? 'nothing was written; a connection whose transactions are read-only (default_transaction_read_only in the URL\'s options, on the role or on the database, or a standby server) runs only commands that read: write through one that may write'
        : "nothing was written; use a role that may write the ledger (the one that made it), or have its owner GRANT this one SELECT, INSERT, UPDATE, DELETE ON ALL TABLES and USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA of the ledger (a reporting role needs SELECT only, and runs only commands that read)",
    });
  }
}

/**
 * The connection to the database server broke while the command ran (a restart, a failover, the network):
 * what the command had not committed rolled back with it. Exit 2, as a server that cannot be reached is.
 */
export class ConnectionLostError extends PointsmallError {
  constructor(detail: string, committed = 'what it had not committed was rolled back', hint = 'check the server, then run the command again: an import skips what is in, a checkout with the same --idempotency-key is not paid twice; ledger verify checks the ledger') {
    super(`the connection to the database server was lost before the command finished (${detail}): ${committed}`, { code: 'CONNECTION_LOST', exitCode: EXIT.usage, hint });
  }
}

/**
 * The server refused one more connection (its own limit, or the role's CONNECTION LIMIT): nothing was
 * written. Exit 5, as a ledger held by others is: it passes when other connections close.
 */
export class TooManyConnectionsError extends PointsmallError {
  constructor(detail: string) {
    super(`the database server refused another connection (${detail})`, {
      code: 'TOO_MANY_CONNECTIONS',
      exitCode: EXIT.busy,
      hint: "nothing was written; run the command again when fewer connections are open, or raise the limit (the role's CONNECTION LIMIT, or max_connections): ledger verify and reports open up to seven connections at once",
    });
  }
}

/**
 * A PostgreSQL failure that is not a bug, from its code (PgError's, mapped from the SQLSTATE), wherever it
 * surfaced: the server refused the role, lost the connection, or refused one more connection.
 */
export function mapServerCode(e: unknown): unknown {
  if (e instanceof PointsmallError) return e;
  const code = (e as { code?: unknown })?.code;
  const message = String((e as Error)?.message ?? e);
  if (code === 'PG_PERMISSION') return new PermissionError(message);
  // (trial 40: a read-only session was an internal error, exit 1)
  if (code === 'PG_READ_ONLY') return new PermissionError(message.replace(/\s*\[in: [\s\S]*\]$/, ''), true);
  if (code === 'PG_CONNECTION_LOST') return new ConnectionLostError(message);
  if (code === 'PG_TOO_MANY_CONNECTIONS') return new TooManyConnectionsError(message);
  if (code === 'PG_QUERY_CANCELED') {
    return new UsageError(
      `the server cancelled a statement of this command (${message.replace(/\s*\[in: [\s\S]*\]$/, '')}): a statement_timeout shorter than the command needs, set in the URL's options, on the role or on the database, or an administrator (pg_cancel_backend); the transaction it was in was rolled back`,
      'raise or remove statement_timeout for the ledger (ALTER ROLE … RESET statement_timeout, or the URL\'s options), then run the command again (an import skips what it committed)',
      'STATEMENT_CANCELLED',
    );
  }
  // 22P05: text the database's encoding has no character for (a ledger made before init refused such databases)
  if (code === 'PG_22P05') {
    return new UsageError(
      `the database cannot hold this text in its encoding: ${message}`,
      `a ledger keeps its text in UTF-8: copy it into a database created with ENCODING 'UTF8' (pointsmall db copy --to postgres://…/NEW_DATABASE) and use that one`,
      'DATABASE_ENCODING',
    );
  }
  return e;
}

/** Error codes of a full disk: the OS's (a file write) and SQLite's (the ledger or a scratch file could not grow). */
const DISK_FULL_CODES = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'SQLITE_FULL']);

export function isDiskFull(e: unknown): boolean {
  return DISK_FULL_CODES.has(String((e as { code?: unknown })?.code));
}

/**
 * The disk (or quota) is full: exit 2, like any other input the command could not use. The message says
 * what was committed, since an import may have committed its first batches before the disk filled up.
 */
export class DiskFullError extends PointsmallError {
  /** @param committed what is in the ledger, e.g. 'nothing was written' */
  constructor(detail: string, committed: string, hint = 'free some space (or raise the quota) and run the command again') {
    super(`no space left on the disk (${detail}): ${committed}`, { code: 'DISK_FULL', exitCode: EXIT.usage, hint });
  }
}

/**
 * SQLite could not grow a file (the ledger, or an import's scratch file): the transaction rolled back
 * whole. An output file that could not be written (ENOSPC) is left to cli/main.ts, since it is written
 * after the command's changes committed.
 */
export function mapDiskFull(e: unknown, path: string): unknown {
  if (e instanceof PointsmallError || !isDiskFull(e) || !String((e as { code?: unknown }).code).startsWith('SQLITE_')) return e;
  return new DiskFullError((e as Error).message, `nothing was written to the ledger ${path} (the transaction rolled back)`);
}

/**
 * How to go back to the last good backup: `db restore` replaces a SQLite file; a PostgreSQL ledger is
 * rebuilt from a backup (`db backup` writes a SQLite file) into an empty database with `db copy`.
 */
export function restoreHint(dbPath: string): string {
  return /^postgres(ql)?:\/\//i.test(dbPath)
    ? 'copy the last good backup into an empty database (pointsmall db copy --db BACKUP.db --to postgres://…/NEW), point the tills at it, and investigate the named entry'
    : 'restore the last good backup (pointsmall db restore FILE) and investigate the named entry';
}

/** ledger verify found a broken invariant: exit 6. */
export class VerifyFailedError extends PointsmallError {
  constructor(message: string, dbPath = '') {
    super(message, { code: 'VERIFY_FAILED', exitCode: EXIT.verifyFailed, hint: restoreHint(dbPath) });
  }
}

/**
 * A refund found its order's books broken (ledger verify's order-lines-add-up or refund-lines-add-up for
 * that order): exit 6, nothing refunded, since a refund pays out what the lines say was paid.
 */
export class OrderBooksError extends PointsmallError {
  constructor(orderId: string, problem: string) {
    super(`order ${orderId} ${problem}; nothing was refunded`, {
      code: 'ORDER_BOOKS_BROKEN',
      exitCode: EXIT.verifyFailed,
      hint: 'run pointsmall ledger verify, restore the last good backup (pointsmall db restore) and investigate the order',
    });
  }
}

/** ledger verify could not read the ledger at all (garbage bytes, a truncated file): exit 6 with SQLite's reason. */
export class LedgerCorruptError extends PointsmallError {
  constructor(path: string, reason: string, hint = 'restore the last good backup (pointsmall db restore FILE); keep the damaged file for investigation') {
    super(`${path} is damaged: ${reason}`, { code: 'LEDGER_CORRUPT', exitCode: EXIT.verifyFailed, hint });
  }
}

/**
 * SQLite's code when `e` says the file's pages are broken (CORRUPT, and with `header` a file whose header is
 * not SQLite's or is cut short too), else undefined.
 */
export function sqliteDamage(e: unknown, header = false): string | undefined {
  const code = String((e as { code?: unknown })?.code ?? '');
  return (header ? /^SQLITE_(CORRUPT|NOTADB|IOERR_SHORT_READ)/ : /^SQLITE_CORRUPT/).test(code) ? code : undefined;
}

/** A payment stopped by Ctrl-C (exit 130) or SIGTERM (143): not quiet, since money may have moved. */
export class PaymentInterruptedError extends PointsmallError {
  constructor(message: string, hint: string, exitCode: 130 | 143) {
    super(message, { code: 'PAYMENT_INTERRUPTED', exitCode, hint });
  }
}

/** A prompt cancelled with Ctrl-C, or its input closed before an answer: exit 130, quietly. */
export class CancelledError extends PointsmallError {
  /**
   * `closed`: the prompt's input ended (Ctrl-D, a pipe that ended) rather than Ctrl-C. `note`: what the
   * cancel left as it is, or undid, printed after "cancelled" (a held checkout: released, or still held).
   */
  constructor(
    readonly closed = false,
    public note?: string,
  ) {
    super('cancelled', { code: 'CANCELLED', exitCode: EXIT.cancelled });
  }
}

/** A prompt's cancellation (ours, or inquirer's own ExitPromptError) as a CancelledError; anything else: null. */
export function asCancelled(e: unknown): CancelledError | null {
  if (e instanceof CancelledError) return e;
  if ((e as Error)?.name === 'ExitPromptError' || (e as Error)?.name === 'AbortPromptError') return new CancelledError((e as Error).name === 'ExitPromptError' && !/SIGINT/.test((e as Error).message));
  return null;
}
