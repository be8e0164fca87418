// Text encodings of imported files: names as people write them, a byte-order mark read, and where UTF-8
// bytes first go wrong. Pure: the caller reads the bytes.

/** The encodings a CSV may be read in (decoded by iconv-lite, or by Node itself for UTF-8). */
export type Encoding = 'utf8' | 'utf16' | 'utf16le' | 'utf16be' | 'gbk' | 'gb18030' | 'latin1' | 'windows-1252' | 'macroman';

/** For messages and help: the names --encoding takes. */
export const ENCODING_NAMES = 'utf8, utf16 (utf16le, utf16be), gbk, gb18030, latin1, windows-1252, macroman';

/**
 * What a file of UTF-16 without a byte-order mark is told, seen in its bytes (NUL in every other byte,
 * textDecode) or in a header decoded one byte a character (NUL characters, encodingHint).
 */
export const UTF16_WITHOUT_BOM = 'the file is UTF-16 without a byte-order mark; pass --encoding utf16le (or utf16be, if that reads no better)';

/** Reads an encoding name (utf8, utf-8, utf16, gbk, gb2312, gb18030, latin1, iso-8859-1, cp1252, mac…). */
export function normaliseEncoding(name: string): Encoding | null {
  const n = name.trim().toLowerCase().replace(/[_\s]/g, '-');
  if (n === 'utf8' || n === 'utf-8' || n === 'utf-8-bom' || n === 'utf8bom') return 'utf8';
  if (n === 'utf16' || n === 'utf-16' || n === 'ucs-2' || n === 'unicode') return 'utf16';
  if (n === 'utf16le' || n === 'utf-16le' || n === 'utf-16-le') return 'utf16le';
  if (n === 'utf16be' || n === 'utf-16be' || n === 'utf-16-be') return 'utf16be';
  if (n === 'gbk' || n === 'gb2312' || n === 'cp936') return 'gbk';
  if (n === 'gb18030') return 'gb18030';
  if (['latin1', 'latin-1', 'iso-8859-1', 'iso8859-1', 'l1'].includes(n)) return 'latin1';
  if (['cp1252', 'windows-1252', 'win1252', 'win-1252'].includes(n)) return 'windows-1252';
  if (['macroman', 'mac-roman', 'macintosh', 'mac', 'x-mac-roman'].includes(n)) return 'macroman';
  return null;
}

/**
 * The encoding a byte-order mark at the start of a file says, and its length; null without one. A BOM
 * decides by itself, whatever --encoding says: it cannot begin a text in any other of the encodings.
 */
export function bomEncoding(head: Uint8Array): { encoding: Encoding; length: number } | null {
  if (head.length >= 3 && head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf8', length: 3 };
  if (head.length >= 2 && head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf16le', length: 2 };
  if (head.length >= 2 && head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf16be', length: 2 };
  return null;
}

/** The iconv-lite name of an encoding that Node does not decode itself. */
export function iconvName(e: Exclude<Encoding, 'utf8'>): string {
  // latin1 files are read as windows-1252, as browsers do (WHATWG): the same letters, and the bytes
  // 0x80–0x9F (C1 controls in ISO-8859-1, never text) as €, „, ‘…
  return e === 'latin1' ? 'win1252' : e === 'windows-1252' ? 'win1252' : e;
}

/** Whether a file in the encoding keeps every newline a single 0x0A byte that no other character contains. */
export function asciiCompatible(e: Encoding): boolean {
  return e !== 'utf16' && e !== 'utf16le' && e !== 'utf16be';
}

/**
 * Where the bytes first fail to be UTF-8: the offset of the first byte of the first bad sequence, or -1
 * when all are good. A sequence cut off at the end is bad only when `atEnd` (else more bytes may follow:
 * `complete` then says where the last whole character ends).
 */
export function firstInvalidUtf8(b: Uint8Array, atEnd: boolean): { bad: number; complete: number } {
  const n = b.length;
  let i = 0;
  while (i < n) {
    const c = b[i];
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (c >= 0xc2 && c <= 0xdf) (need = 1), (min = 0x80);
    else if (c >= 0xe0 && c <= 0xef) (need = 2), (min = 0x800);
    else if (c >= 0xf0 && c <= 0xf4) (need = 3), (min = 0x10000);
    else return { bad: i, complete: i };
    if (i + need >= n) {
      // fewer bytes left than the sequence needs: good so far?
      for (let k = i + 1; k < n; k++) if ((b[k] & 0xc0) !== 0x80) return { bad: i, complete: i };
      return atEnd ? { bad: i, complete: i } : { bad: -1, complete: i };
    }
    let cp = c & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const x = b[i + k];
      if ((x & 0xc0) !== 0x80) return { bad: i, complete: i };
      cp = (cp << 6) | (x & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return { bad: i, complete: i };
    i += need + 1;
  }
  return { bad: -1, complete: n };
}

/**
 * Where the first character outside ASCII starts, if the bytes hold one and every one is UTF-8 (a
 * sequence cut off at the end counts as good unless `atEnd`): -1 when the bytes are ASCII, or are not
 * UTF-8. A file declared in a legacy encoding that reads as UTF-8 this way was almost surely saved as
 * UTF-8: read as the legacy one it turns into other text with no bad byte to stop it ("王芳" as gbk is
 * "鐜嬭姵"; "café" as windows-1252 is "cafÃ©").
 */
export function utf8OutsideAscii(b: Uint8Array, atEnd: boolean): { first: number; utf8: boolean } {
  let first = -1;
  for (let i = 0; i < b.length; i++) {
    if (b[i] >= 0x80) {
      first = i;
      break;
    }
  }
  if (first < 0) return { first: -1, utf8: true };
  const r = firstInvalidUtf8(b.subarray(first), atEnd);
  return { first, utf8: r.bad < 0 };
}

/** The byte that ends lines in these bytes: 13 when the first line end is a bare CR, 10 for LF or CRLF, -1 when there is none. */
export function lineEndOf(b: Uint8Array): 10 | 13 | -1 {
  const lf = b.indexOf(10);
  const cr = b.indexOf(13);
  if (lf < 0 && cr < 0) return -1;
  return cr >= 0 && (lf < 0 || cr < lf) && b[cr + 1] !== 10 ? 13 : 10;
}

/** The 1-based line of byte `offset`, counting line ends (LF, or CR in a bare-CR text) from `firstLine`. */
export function lineOfByte(b: Uint8Array, offset: number, firstLine = 1): number {
  const eol = lineEndOf(b) === 13 ? 13 : 10;
  let line = firstLine;
  for (let k = b.indexOf(eol); k >= 0 && k < offset; k = b.indexOf(eol, k + 1)) line++;
  return line;
}

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Where the first unpaired surrogate of a decoded UTF-16 text is (half of a pair whose other half is missing), or -1. */
export function loneSurrogate(text: string): number {
  return text.search(LONE_SURROGATE);
}
