// Clean text for ids: an id with a control character, NUL, U+FFFD (what a decoder puts for a byte that
// is not valid in the file's encoding) or a lone surrogate is refused, never kept or replaced — two
// distinct ids read with bad bytes would otherwise become one.

// eslint-disable-next-line no-control-regex
const UNCLEAN = /[\u0000-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Whether `id` is printable ASCII only (space to `~`): then it is clean, visible and in every Unicode
 * normal form, and neither check below needs its regular expression (an import checks ~250,000 ids).
 */
function printableAscii(id: string): boolean {
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x20 || c > 0x7e) return false;
  }
  return true;
}

/** Why `id` (named `what`, e.g. "member id") is not clean text, or null when it is. */
export function idTextProblem(what: string, id: string): string | null {
  if (printableAscii(id)) return null;
  const m = UNCLEAN.exec(id);
  if (!m) return null;
  const ch = m[0];
  const kind =
    ch === '\u0000' ? 'a NUL character'
    : ch === '\ufffd' ? 'U+FFFD, the mark of a byte that is not valid text (check --encoding)'
    : ch.length === 1 && ch >= '\ud800' && ch <= '\udfff' ? 'invalid UTF-16 (a lone surrogate)'
    : `a control character (U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')})`;
  return `${what} ${JSON.stringify(id)} contains ${kind}`;
}

/**
 * Why a stored text field (a purchase line's SKU or category) is refused, or null: a control character
 * — C0 (U+0000–U+001F, tab and line breaks included), DEL or C1 (U+0080–U+009F, U+009B is CSI). A control
 * character is never text a till meant: it shows as nothing or moves the cursor, an ESC begins a terminal
 * escape sequence, a tab or line break reads as a space in tab-separated output, so two SKUs would look
 * alike. Spaces are text (`BANK CHARGES`). A loop over the characters, no regular expression: an import
 * checks a million of these.
 */
export function controlCharProblem(what: string, text: string): string | null {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f) continue;
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) {
      const hex = c.toString(16).toUpperCase().padStart(4, '0');
      const kind = c === 9 ? ', a tab' : c === 10 || c === 13 ? ', a line break' : c === 0x1b ? ', ESC' : '';
      return `${what} ${JSON.stringify(text)} contains a control character (U+${hex}${kind}) at position ${[...text.slice(0, i)].length + 1}: text fields hold no control characters, tabs and line breaks included (remove it in the file, or export it again)`;
    }
  }
  return null;
}

// Characters that do not show, or show as a gap, inside an id: controls (Cc), format characters (Cf:
// zero-width space and joiners, bidi marks, soft hyphen, BOM), line and paragraph separators (Zl, Zp),
// every space but the ASCII one (Zs), and the rest of Unicode's default-ignorable code points (variation
// selectors, the combining grapheme joiner, Hangul fillers).
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]|(?! )[\p{Zs}\s]/u;

const codePoint = (ch: string): string => `U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
const codePoints = (s: string): string => [...s].map(codePoint).join(' ');

/** Why `text` holds an invisible or blank character other than a space (a zero-width space, a soft hyphen, a no-break space), else null. */
export function invisibleCharProblem(what: string, text: string): string | null {
  const inv = INVISIBLE.exec(text);
  if (!inv) return null;
  const ch = inv[0];
  return `${what} ${JSON.stringify(text)} contains an invisible or blank character, ${codePoint(ch)}${ch === '\u200b' ? ' (zero-width space)' : ch === '\u00a0' ? ' (no-break space)' : ch === '\ufeff' ? ' (byte order mark)' : ''}, at position ${[...text.slice(0, inv.index)].length + 1}`;
}

/**
 * Why `id` could pass for another id while being a different string, or null when it cannot (README
 * "Ids"): an invisible character or a space other than ASCII's, a form that is not Unicode NFC (`e` and a
 * combining accent where `é` is one character), or a compatibility form NFKC folds (fullwidth `Ｍ`,
 * ligatures, superscripts). Such ids are refused, never normalised: a ledger may already hold either form,
 * and folding one onto the other could merge two members or split one.
 */
export function idLookalikeProblem(what: string, id: string): string | null {
  if (printableAscii(id)) return null;
  const inv = invisibleCharProblem(what, id);
  if (inv) return `${inv}: ids must be visible text`;
  const nfc = id.normalize('NFC');
  if (nfc !== id) return `${what} ${JSON.stringify(id)} is not in Unicode NFC form: ${differing(id, nfc)}; write the composed form ${JSON.stringify(nfc)}`;
  const nfkc = id.normalize('NFKC');
  if (nfkc !== id) return `${what} ${JSON.stringify(id)} holds a compatibility character: ${differing(id, nfkc)} (fullwidth letters and digits, ligatures and the like look like plain ones); write ${JSON.stringify(nfkc)}`;
  return null;
}

/**
 * Why `id` looks like a long number a spreadsheet shortened to scientific notation (`1.23457E+14`), or null.
 * The digits it hid are gone, and other ids shorten to the same text: two customers would become one member.
 */
export function spreadsheetNumberProblem(what: string, id: string): string | null {
  if (!/^-?\d+(?:\.\d+)?E[+-]\d+$/i.test(id)) return null;
  return `${what} ${JSON.stringify(id)} is a number a spreadsheet shortened to scientific notation: its hidden digits are lost, and other ids shorten to the same text (export the column as text, or from the source system, not through a spreadsheet)`;
}

/** The code points where `a` and its normal form `b` differ: `U+0065 U+0301 for U+00E9`. */
function differing(a: string, b: string): string {
  const x = [...a];
  const y = [...b];
  let p = 0;
  while (p < x.length && p < y.length && x[p] === y[p]) p++;
  let s = 0;
  while (s < x.length - p && s < y.length - p && x[x.length - 1 - s] === y[y.length - 1 - s]) s++;
  return `${codePoints(x.slice(p, x.length - s).join(''))} for ${codePoints(y.slice(p, y.length - s).join('')) || 'nothing'}`;
}

const columnKey = (s: string): string => s.trim().toLowerCase().replace(/[\s_-]+/g, '');

/**
 * Why a CSV header is ambiguous, or null: a column named twice (after trimming), or two columns that both
 * answer to a name the import reads (`read`: its fields and mapped columns, matched as imports match
 * them, ignoring case, spaces, `_` and `-`: `Amount` and `amount`). Reading one of them silently would
 * drop the other's values.
 */
export function duplicateColumnProblem(header: readonly string[], read: readonly string[]): string | null {
  const wanted = new Set(read.map(columnKey));
  const names = header.map((h) => h.trim());
  for (let j = 1; j < names.length; j++) {
    if (names[j] === '') continue;
    for (let i = 0; i < j; i++) {
      const same = names[i] === names[j];
      if (!same && !(columnKey(names[i]) === columnKey(names[j]) && wanted.has(columnKey(names[j])))) continue;
      return same
        ? `the header names column ${JSON.stringify(names[j])} twice, at positions ${i + 1} and ${j + 1}`
        : `the header has columns ${JSON.stringify(names[i])} (position ${i + 1}) and ${JSON.stringify(names[j])} (position ${j + 1}), which read as the same column`;
    }
  }
  return null;
}

/** A word as a POSIX shell reads it back: bare when it is plain, else single-quoted. */
export function shellWord(s: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(s) ? s : `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * `s` without the ASCII blanks around it (spaces, tabs, line breaks): what a padded export puts there.
 * Unlike String.trim, a no-break space, an ideographic space, a line separator or a BOM at an end stays,
 * so an id holding one is refused naming it (trial 39) rather than read as the id it looks like.
 */
export function trimAscii(s: string): string {
  const n = s.length;
  if (n === 0 || (s.charCodeAt(0) > 32 && s.charCodeAt(n - 1) > 32)) return s;
  let a = 0;
  let b = n;
  while (a < b && isAsciiBlank(s.charCodeAt(a))) a++;
  while (b > a && isAsciiBlank(s.charCodeAt(b - 1))) b--;
  return a === 0 && b === n ? s : s.slice(a, b);
}
const isAsciiBlank = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

/** Characters a spreadsheet or a word processor puts where a number or a time wants plain ASCII. */
const LOOKALIKES: Record<string, string> = {
  '\u00a0': 'a no-break space (U+00A0)',
  '\u2007': 'a figure space (U+2007)',
  '\u2009': 'a thin space (U+2009)',
  '\u202f': 'a narrow no-break space (U+202F)',
  '\u3000': 'an ideographic space (U+3000)',
  '\u2212': 'a minus sign (U+2212) in place of -',
  '\uff0d': 'a full-width minus (U+FF0D) in place of -',
  '\u2013': 'an en dash (U+2013) in place of -',
  '\uff0e': 'a full-width full stop (U+FF0E) in place of .',
  '\uff1a': 'a full-width colon (U+FF1A) in place of :',
  '\uff0f': 'a full-width slash (U+FF0F) in place of /',
};

/**
 * Why a number or a time that looks right on screen was not read (trial 32): a no-break space, a
 * Unicode minus, full-width digits or punctuation in it, named; null when it has none.
 */
export function lookalikeCharsProblem(text: string): string | null {
  const found: string[] = [];
  for (const ch of new Set(text)) {
    if (LOOKALIKES[ch]) found.push(LOOKALIKES[ch]);
    else if (ch >= '\uff10' && ch <= '\uff19' && !found.includes('full-width digits (U+FF10–FF19)')) found.push('full-width digits (U+FF10–FF19)');
  }
  return found.length ? `it holds ${found.join(' and ')}: retype it in plain ASCII (in a file, replace those characters)` : null;
}

/** Dashes that look like ASCII's hyphen-minus (hyphens, en and em dashes, minus signs, full-width). */
export const DASH_LOOKALIKES = /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/g;

/** A name as names compare once case, width (full-width letters), look-alike dashes and spacing are set aside. */
export const foldedName = (s: string): string => s.normalize('NFKC').toLowerCase().replace(DASH_LOOKALIKES, '-').replace(/[\s\u200b-\u200d\u2060\ufeff\u00ad]+/g, '');

/**
 * A name quoted as JSON, with every character that would print like another escaped (\u00a0 for a no-break
 * space, \u2011 for a non-breaking hyphen, an invisible one): two names that differ only there read apart.
 */
export function shownName(s: string): string {
  return JSON.stringify(s).replace(/[^\x20-\x7e]/gu, (ch) => (/[\s\u200b-\u200f\u2060\ufeff\u00ad]/u.test(ch) || /[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]/u.test(ch) ? `\\u${ch.codePointAt(0)!.toString(16).padStart(4, '0')}` : ch));
}
