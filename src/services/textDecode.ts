// Decoding an imported file's bytes into text, as they stream: UTF-8 by Node (invalid bytes are an
// error naming their line, never a silent U+FFFD), every other encoding by iconv-lite.
import { closeSync, openSync, readSync } from 'node:fs';
import { StringDecoder } from 'node:string_decoder';
import { UsageError } from '../errors.js';
import { ENCODING_NAMES, type Encoding, asciiCompatible, bomEncoding, firstInvalidUtf8, iconvName, lineEndOf, lineOfByte, loneSurrogate, UTF16_WITHOUT_BOM, utf8OutsideAscii } from '../domain/encoding.js';

/** A streaming decoder of one stretch of a file. */
export interface FileDecoder {
  decode(b: Buffer): string;
  end(): string;
}

/** The encoding to read a file in: its byte-order mark's, else the one given (else UTF-8). */
export function fileEncoding(file: string, declared: Encoding | undefined): Encoding {
  const head = Buffer.alloc(4);
  const fd = openSync(file, 'r');
  let n: number;
  try {
    n = readSync(fd, head, 0, 4, 0);
  } finally {
    closeSync(fd);
  }
  return bomEncoding(head.subarray(0, n))?.encoding ?? declared ?? 'utf8';
}

/**
 * A file declared in a legacy encoding (gbk, windows-1252 …, no BOM) whose bytes are all UTF-8, some of
 * them outside ASCII, is refused (trial 32): read as declared it would import other names, SKUs and
 * categories with no bad byte to stop it. Read in pieces; stops at the first piece that is not UTF-8.
 */
export async function refuseUtf8Declared(file: string, declared: Encoding | undefined, from: string | null = null): Promise<void> {
  if (declared === undefined || declared === 'utf8' || !asciiCompatible(declared) || fileEncoding(file, undefined) !== 'utf8') return;
  const bytes = await firstUtf8OutsideAscii(file);
  if (!bytes) return;
  const iconv = (await import('iconv-lite')).default;
  throw utf8Declared(file, declared, bytes, iconv.decode(Buffer.from(bytes.text, 'utf8'), iconvName(declared as Exclude<Encoding, 'utf8'>)), from);
}

/** The first line of a file that holds a character outside ASCII, when every byte of the file is UTF-8; else null. */
async function firstUtf8OutsideAscii(file: string): Promise<{ line: number; text: string } | null> {
  const fd = openSync(file, 'r');
  try {
    const piece = Buffer.allocUnsafe(1 << 20);
    let at = 0; // bytes from 0 to here are whole UTF-8 characters
    let found: number | null = null; // the offset of the first one outside ASCII
    for (;;) {
      const n = readSync(fd, piece, 0, piece.length, at);
      const atEnd = n < piece.length;
      const b = piece.subarray(0, n);
      const r = utf8OutsideAscii(b, atEnd);
      if (!r.utf8) return null;
      if (found === null && r.first >= 0) found = at + r.first;
      if (atEnd) break;
      // the next piece starts at the last whole character (at most 3 bytes of a cut one are read again)
      let cut = n;
      for (let k = n - 1; k >= Math.max(0, n - 4); k--) {
        if ((b[k] & 0xc0) !== 0x80) {
          if (b[k] >= 0xc0) cut = k;
          break;
        }
      }
      at += cut;
    }
    if (found === null) return null;
    // the line around it (up to 200 bytes each way), for the message
    const around = Buffer.allocUnsafe(400);
    const from = Math.max(0, found - 200);
    const m = readSync(fd, around, 0, around.length, from);
    const text = around.subarray(0, m).toString('utf8');
    const offset = Buffer.byteLength(around.subarray(0, found - from).toString('utf8'));
    const line = lineOfOffset(fd, piece, found);
    const lineStart = Math.max(text.lastIndexOf('\n', offset - 1), text.lastIndexOf('\r', offset - 1)) + 1;
    const ends = [text.indexOf('\n', offset), text.indexOf('\r', offset)].filter((x) => x >= 0);
    return { line, text: text.slice(lineStart, ends.length ? Math.min(...ends) : text.length).replace(/\ufffd+$/, '') };
  } finally {
    closeSync(fd);
  }
}

/**
 * The line of byte `offset`, counted in pieces of `piece`'s size (never the whole prefix in memory): line
 * ends are LF, or bare CR when the file's first line end is one, as lineOfByte reads them.
 */
function lineOfOffset(fd: number, piece: Buffer, offset: number): number {
  let eol = -1;
  let line = 1;
  for (let at = 0; at < offset; ) {
    const n = readSync(fd, piece, 0, Math.min(piece.length, offset - at + 1), at);
    if (n <= 0) break;
    const b = piece.subarray(0, n);
    if (eol < 0) eol = lineEndOf(b);
    const upTo = Math.min(n, offset - at);
    if (eol >= 0) for (let k = b.indexOf(eol); k >= 0 && k < upTo; k = b.indexOf(eol, k + 1)) line++;
    at += upTo;
  }
  return line;
}

/** The names the iconv command knows the legacy encodings by (latin1 is read as windows-1252, as browsers do). */
const ICONV_CLI: Partial<Record<Encoding, string>> = { gbk: 'GBK', gb18030: 'GB18030', latin1: 'WINDOWS-1252', 'windows-1252': 'WINDOWS-1252', macroman: 'MACINTOSH' };

function utf8Declared(file: string, declared: Encoding, at: { line: number; text: string }, misread: string, from: string | null = null): UsageError {
  const cut = (t: string) => (t.length > 60 ? `${t.slice(0, 57)}…` : t);
  const given = from ? `${from} says encoding ${declared}` : `--encoding ${declared} was given`;
  return new UsageError(
    `${file}:${at.line}: ${given}, but the file is UTF-8: line ${at.line} reads ${JSON.stringify(cut(at.text))} as UTF-8 and ${JSON.stringify(cut(misread))} as ${declared}; nothing was written`,
    from
      ? `pass --encoding utf8 (it overrides the profile's); if the file really is ${declared}, convert it first (iconv -f ${ICONV_CLI[declared] ?? declared} -t UTF-8 ${file} > converted.csv) and import that with --encoding utf8`
      : `leave out --encoding (UTF-8 is read by default); if the file really is ${declared}, convert it first (iconv -f ${ICONV_CLI[declared] ?? declared} -t UTF-8 ${file} > converted.csv) and import that without --encoding`,
  );
}

/** The error for the first bytes that are not UTF-8, at `line`. */
export function invalidUtf8(file: string, line: number): UsageError {
  const hint = utf16WithoutBom(file)
    ? `the file has NUL bytes between its letters: ${UTF16_WITHOUT_BOM}`
    : `pass the file's encoding: --encoding ${ENCODING_NAMES.replace(/^utf8, /, '')} (Excel on Windows: windows-1252; classic Mac: macroman; Chinese: gbk or gb18030)`;
  return new UsageError(`${file}:${line}: bytes that are not UTF-8 (the file was saved in another encoding); nothing was written`, hint);
}

/** Whether the file's first bytes hold a NUL in every other byte (ASCII text as UTF-16), an error path's check. */
function utf16WithoutBom(file: string): boolean {
  try {
    const head = Buffer.alloc(64);
    const fd = openSync(file, 'r');
    let n: number;
    try {
      n = readSync(fd, head, 0, head.length, 0);
    } finally {
      closeSync(fd);
    }
    let nuls = 0;
    for (let i = 0; i < n; i++) if (head[i] === 0) nuls++;
    return n >= 8 && nuls * 3 >= n;
  } catch {
    return false;
  }
}

/**
 * A decoder of the file's bytes from `start` (on line `firstLine`). Under UTF-8 the decoded text is
 * searched for U+FFFD (free beside decoding); only where one appears are the bytes read again and
 * checked, so a file that holds a real U+FFFD is read, and one with bad bytes fails on their line.
 */
export async function fileDecoder(file: string, encoding: Encoding, start = 0, firstLine = 1): Promise<FileDecoder> {
  if (encoding !== 'utf8') {
    const iconv = (await import('iconv-lite')).default;
    const d = iconv.getDecoder(iconvName(encoding));
    // iconv-lite puts U+FFFD for bytes the encoding has no character for: that is an error here too
    const real = realReplacement(iconv, encoding);
    let line = firstLine; // the line the text decoded so far ends on
    let cr = false; // the text so far ends with a CR (its line counted: an LF next is the same end)
    const guard = (text: string, b: Buffer | null) => {
      const at = text.indexOf('\ufffd');
      if (at >= 0 && !(real && b && b.includes(real))) throw invalidBytes(file, encoding, line + newlines(text, at, cr));
      line += newlines(text, text.length, cr);
      if (text.length) cr = text.charCodeAt(text.length - 1) === 13;
      return text;
    };
    if (asciiCompatible(encoding)) return { decode: (b) => guard(d.write(b), b), end: () => guard(d.end() ?? '', null) };
    // UTF-16: iconv-lite (and Node under it) passes an unpaired surrogate through as it is, and drops an
    // odd last byte; both are bad bytes here. A high surrogate ending a piece waits for the next piece.
    const bom = start === 0 && fileEncoding(file, undefined) !== 'utf8' ? 2 : 0; // iconv-lite drops it
    let fed = 0; // bytes given to the decoder
    let units = 0; // UTF-16 units handed on, each two bytes after the BOM
    let held = '';
    const unpaired = (text: string) => {
      const at = loneSurrogate(text);
      if (at >= 0) throw unpairedSurrogate(file, encoding, line + newlines(text, at, cr), start + bom + 2 * (units + at), text.charCodeAt(at));
      units += text.length;
      return text;
    };
    return {
      decode(b) {
        fed += b.length;
        let text = held + d.write(b);
        held = '';
        const last = text.charCodeAt(text.length - 1);
        if (last >= 0xd800 && last <= 0xdbff) (held = text.slice(-1)), (text = text.slice(0, -1));
        return guard(unpaired(text), b);
      },
      end() {
        const text = guard(unpaired(held + (d.end() ?? '')), null);
        if (fed % 2) throw oddByte(file, encoding, line, start + fed - 1);
        return text;
      },
    };
  }
  const d = new StringDecoder('utf8');
  let read = start; // bytes decoded so far end here
  let checked = start; // bytes from start to here are whole, good UTF-8 characters
  const check = (atEnd: boolean) => {
    const fd = openSync(file, 'r');
    try {
      const piece = Buffer.allocUnsafe(1 << 20);
      while (checked < read) {
        const n = readSync(fd, piece, 0, Math.min(piece.length, read - checked), checked);
        if (n <= 0) break;
        const last = checked + n >= read;
        const r = firstInvalidUtf8(piece.subarray(0, n), atEnd && last);
        if (r.bad >= 0) throw invalidUtf8(file, lineAt(fd, start, firstLine, checked + r.bad));
        if (r.complete === 0) break; // (cannot happen: a piece holds whole characters)
        checked += r.complete;
        if (last) break;
      }
    } finally {
      closeSync(fd);
    }
  };
  return {
    decode(b) {
      const s = d.write(b);
      read += b.length;
      if (s.indexOf('\ufffd') >= 0) check(false);
      return s;
    },
    end() {
      const s = d.end();
      if (s.indexOf('\ufffd') >= 0) check(true);
      return s;
    },
  };
}

/** The line of byte `offset` in a stretch of the file beginning at `start` on line `firstLine`. */
function lineAt(fd: number, start: number, firstLine: number, offset: number): number {
  const b = Buffer.allocUnsafe(offset - start + 1);
  const n = readSync(fd, b, 0, b.length, start);
  return lineOfByte(b.subarray(0, n), offset - start, firstLine);
}

/** A whole small file decoded (master data imports); invalid UTF-8 is an error naming its line. */
export async function decodeWhole(file: string, bytes: Buffer, declared: Encoding | undefined): Promise<string> {
  const bom = bomEncoding(bytes);
  const encoding = bom?.encoding ?? declared ?? 'utf8';
  const body = bom ? bytes.subarray(bom.length) : bytes;
  if (encoding === 'utf8') {
    const r = firstInvalidUtf8(body, true);
    if (r.bad >= 0) throw invalidUtf8(file, lineOfByte(body, r.bad));
    return body.toString('utf8');
  }
  const iconv = (await import('iconv-lite')).default;
  const text = iconv.decode(body, iconvName(encoding));
  if (!bom && asciiCompatible(encoding)) {
    const u = utf8OutsideAscii(body, true);
    if (u.utf8 && u.first >= 0) {
      const line = lineOfByte(body, u.first);
      const lineText = (s: string) => s.split(/\r\n|\r|\n/)[line - 1] ?? '';
      throw utf8Declared(file, encoding, { line, text: lineText(body.toString('utf8')) }, lineText(text));
    }
  }
  const at = text.indexOf('\ufffd');
  const real = realReplacement(iconv, encoding);
  if (at >= 0 && !(real && body.includes(real))) throw invalidBytes(file, encoding, 1 + newlines(text, at));
  if (!asciiCompatible(encoding)) {
    // UTF-16 (see fileDecoder): an unpaired surrogate or an odd last byte is a bad byte, never passed on
    const lone = loneSurrogate(text);
    const head = bom ? bom.length : 0;
    if (lone >= 0) throw unpairedSurrogate(file, encoding, 1 + newlines(text, lone), head + 2 * lone, text.charCodeAt(lone));
    if (body.length % 2) throw oddByte(file, encoding, 1 + newlines(text, text.length), head + body.length - 1);
  }
  return text;
}

/** How many line feeds `text` has before `end`. */
function newlines(text: string, end: number, afterCR = false): number {
  let n = 0;
  for (let i = text.indexOf('\n'); i >= 0 && i < end; i = text.indexOf('\n', i + 1)) n++;
  // a bare CR ends a line too (old Mac exports); a CR LF is one end, also when a piece ends between them
  if (text.indexOf('\r') < 0 || text.indexOf('\r') >= end) return afterCR && text.charCodeAt(0) === 10 && end > 0 ? n - 1 : n;
  for (let i = text.indexOf('\r'); i >= 0 && i < end; i = text.indexOf('\r', i + 1)) if (text.charCodeAt(i + 1) !== 10 || i + 1 >= end) n++;
  // (a CR LF cut by `end` counted its CR: its LF is not before `end`)
  return afterCR && text.charCodeAt(0) === 10 && end > 0 ? n - 1 : n;
}

/**
 * The bytes of a real U+FFFD in `encoding`, for the encodings that have one (UTF-16, GB18030): a file
 * holding them may decode to it. Null for the others, where U+FFFD only ever stands for bad bytes.
 */
function realReplacement(iconv: typeof import('iconv-lite'), encoding: Exclude<Encoding, 'utf8'>): Buffer | null {
  const b = iconv.encode('\ufffd', iconvName(encoding));
  return iconv.decode(b, iconvName(encoding)) === '\ufffd' && !b.equals(iconv.encode('?', iconvName(encoding))) ? b : null;
}

/** The error for bytes the declared encoding has no character for, at `line` (SPEC §7: never replaced). */
function invalidBytes(file: string, encoding: Encoding, line: number): UsageError {
  return new UsageError(
    `${file}:${line}: bytes that are not ${encoding} (the file was saved in another encoding, or is damaged there); nothing was written`,
    `check the file's encoding and pass it: --encoding ${ENCODING_NAMES} (a UTF-8 file needs no --encoding)`,
  );
}

/** The error for a UTF-16 unit that is half of a pair without its other half (SPEC §7: never replaced by U+FFFD). */
function unpairedSurrogate(file: string, encoding: Encoding, line: number, offset: number, unit: number): UsageError {
  return new UsageError(
    `${file}:${line}: bytes that are not valid ${utf16Name(encoding)}: an unpaired surrogate 0x${unit.toString(16).toUpperCase()} at byte ${offset} (the file is damaged, or was saved in another encoding); nothing was written`,
    `export the file again from the program that wrote it (as UTF-8 if it can), or pass its real encoding: --encoding ${ENCODING_NAMES}`,
  );
}

/** The error for a UTF-16 file that ends in half a unit. */
function oddByte(file: string, encoding: Encoding, line: number, offset: number): UsageError {
  return new UsageError(
    `${file}:${line}: bytes that are not valid ${utf16Name(encoding)}: the file ends in half a character (an odd last byte at byte ${offset}; the file is cut short or damaged); nothing was written`,
    `export the file again from the program that wrote it (as UTF-8 if it can), or pass its real encoding: --encoding ${ENCODING_NAMES}`,
  );
}

const utf16Name = (e: Encoding): string => (e === 'utf16le' ? 'UTF-16LE' : e === 'utf16be' ? 'UTF-16BE' : 'UTF-16');
