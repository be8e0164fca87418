// Input paths: a command reads a regular file, and says what else a path is when it is not one.
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { UsageError } from '../errors.js';

/**
 * Throws the usage error for an input path that is not a regular file, saying which it is: missing, a
 * folder, or a pipe or device (`<(…)`, a FIFO, /dev/stdin): inputs are files, which an import reads more than once.
 */
export function requireInputFile(path: string, hint: string): void {
  if (!existsSync(path)) throw new UsageError(`cannot read ${path}: no such file`, hint);
  const st = statSync(path);
  if (st.isFile()) {
    const packed = packedKind(path);
    if (packed) throw new UsageError(`cannot read ${path}: it is ${packed.what}, not a text file`, packed.fix);
    return;
  }
  if (st.isDirectory()) throw new UsageError(`cannot read ${path}: it is a folder, not a file`, hint);
  throw new UsageError(
    `cannot read ${path}: it is a pipe or a device, not a regular file`,
    'save it to a file first (… > input.csv) and pass that: an input is read more than once (checked whole, then loaded)',
  );
}

/**
 * A file that is an archive or compressed, by its first bytes (an .xlsx workbook is a ZIP archive): its
 * bytes would read as text that is not UTF-8, and the advice to pass --encoding would lead nowhere.
 */
function packedKind(path: string): { what: string; fix: string } | null {
  const head = Buffer.alloc(6);
  let n = 0;
  const fd = openSync(path, 'r');
  try {
    n = readSync(fd, head, 0, 6, 0);
  } finally {
    closeSync(fd);
  }
  const starts = (...bytes: number[]) => n >= bytes.length && bytes.every((b, i) => head[i] === b);
  if (starts(0x50, 0x4b, 0x03, 0x04)) return { what: 'a ZIP archive (an Excel .xlsx workbook is one)', fix: 'save the sheet as CSV (File › Save As › CSV UTF-8) and pass that file' };
  if (starts(0x1f, 0x8b)) return { what: 'gzip-compressed', fix: 'decompress it first (gunzip -k FILE) and pass the .csv' };
  if (starts(0xd0, 0xcf, 0x11, 0xe0)) return { what: 'an old Excel .xls workbook (or another OLE document)', fix: 'save the sheet as CSV (File › Save As › CSV UTF-8) and pass that file' };
  if (starts(0x42, 0x5a, 0x68)) return { what: 'bzip2-compressed', fix: 'decompress it first (bunzip2 -k FILE) and pass the .csv' };
  if (starts(0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00)) return { what: 'xz-compressed', fix: 'decompress it first (unxz -k FILE) and pass the .csv' };
  return null;
}
