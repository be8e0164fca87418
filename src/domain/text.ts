// Clean text for ids: an id with a control character, NUL, U+FFFD (what a decoder puts for a byte that
// is not valid in the file's encoding) or a lone surrogate is refused, never kept or replaced — two
// distinct ids read with bad bytes would otherwise become one.

// eslint-disable-next-line no-control-regex
const UNCLEAN = /[\u0000-\u001f\u007f-\u009f\ufffd]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** Why `id` (named `what`, e.g. "member id") is not clean text, or null when it is. */
export function idTextProblem(what: string, id: string): string | null {
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
