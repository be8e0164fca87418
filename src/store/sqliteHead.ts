// What a file is, from SQLite's point of view, read from its first 16 bytes once: a database (a ledger, a
// backup, any SQLite file), its write-ahead log, its rollback journal, empty, or something else. Used
// where a path must be told apart before anything opens it: the ledger's --db, db restore's backup, and
// an output path that must never replace a database.
import { closeSync, openSync, readSync } from 'node:fs';

export type SqliteHead = 'database' | 'wal' | 'journal' | 'empty' | 'zeros' | 'other';

const DATABASE_MAGIC = Buffer.from('SQLite format 3\u0000', 'latin1');
const JOURNAL_MAGIC = Buffer.from([0xd9, 0xd5, 0x05, 0xf9, 0x20, 0xa1, 0x63, 0xd7]);

/**
 * The kind of the file at path by its header. `zeros`: only NUL bytes where a header would be (a file
 * another process has just sized but not yet written). Throws what opening or reading the file throws
 * (missing, a folder, no permission).
 */
export function sqliteHead(path: string): SqliteHead {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = Buffer.alloc(16);
    const n = readSync(fd, head, 0, 16, 0);
    if (n === 0) return 'empty';
    if (n === 16 && head.equals(DATABASE_MAGIC)) return 'database';
    if (n >= 8 && head.subarray(0, 8).equals(JOURNAL_MAGIC)) return 'journal';
    if (n >= 4 && [0x377f0682, 0x377f0683].includes(head.readUInt32BE(0))) return 'wal';
    return head.subarray(0, n).every((b) => b === 0) ? 'zeros' : 'other';
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
