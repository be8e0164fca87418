// The store's SQL is written once, in SQLite's dialect; this turns a statement into PostgreSQL's.
// It knows the handful of constructs the store uses (parameters, IS for null-safe equality, two-argument
// max/min, camelCase aliases, INSERT OR FAIL, LIKE's case rule, migrations' DDL and triggers) and nothing
// else: a statement it cannot carry over is written per dialect in its repository instead (see pgOr).

export interface PgStatementText {
  /** The statement in PostgreSQL's dialect, parameters numbered $1…$n. */
  text: string;
  /** For each $i, the name of a named parameter (@name, :name, $name), or null for a positional ?. */
  params: (string | null)[];
}

type Segment = { code: boolean; s: string };

/** Splits sql into code and quoted parts ('…' literals, "…" identifiers, -- comments) so rewrites touch code only. */
function segments(sql: string): Segment[] {
  const out: Segment[] = [];
  let i = 0;
  let start = 0;
  const push = (code: boolean, end: number) => {
    if (end > start) out.push({ code, s: sql.slice(start, end) });
    start = end;
  };
  while (i < sql.length) {
    const c = sql[i];
    if (c === "'" || c === '"') {
      push(true, i);
      let j = i + 1;
      for (;;) {
        if (j >= sql.length) break;
        if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      i = j + 1;
      push(false, Math.min(i, sql.length));
    } else if (c === '-' && sql[i + 1] === '-') {
      push(true, i);
      const nl = sql.indexOf('\n', i);
      i = nl < 0 ? sql.length : nl;
      start = i; // comments dropped
    } else i++;
  }
  push(true, sql.length);
  return out;
}

/** Rewrites f(a, b) (exactly two top-level arguments) as g(a, b), for max/min → GREATEST/LEAST. */
function scalarMinMax(code: string): string {
  return code.replace(/\b(max|min|MAX|MIN)\(/g, (m, fn: string, offset: number) => {
    let depth = 0;
    let commas = 0;
    for (let j = offset + m.length; j < code.length; j++) {
      const ch = code[j];
      if (ch === "'") {
        j = code.indexOf("'", j + 1);
        if (j < 0) break;
      } else if (ch === '(') depth++;
      else if (ch === ')') {
        if (depth === 0) break;
        depth--;
      } else if (ch === ',' && depth === 0) commas++;
    }
    if (commas !== 1) return m;
    return fn.toLowerCase() === 'max' ? 'GREATEST(' : 'LEAST(';
  });
}

function rewriteCode(code: string): string {
  let s = code;
  s = s.replace(/\bINSERT\s+OR\s+(FAIL|ABORT)\s+INTO\b/gi, 'INSERT INTO').replace(/\bUPDATE\s+OR\s+(FAIL|ABORT)\s+/gi, 'UPDATE ');
  s = s.replace(/\s(INDEXED\s+BY\s+\w+|NOT\s+INDEXED)\b/gi, '');
  // SQLite's CROSS JOIN … ON fixes the join order; PostgreSQL spells it JOIN … ON
  s = s.replace(/\bCROSS\s+JOIN\s+(\w+(?:\s+(?!ON\b)\w+)?)\s+ON\b/g, 'JOIN $1 ON');
  s = s.replace(/\)\s*WITHOUT\s+ROWID\b/gi, ')').replace(/\btemp\./g, 'pg_temp.');
  s = s.replace(/\bIS\s+NOT\s+(?!NULL\b|DISTINCT\b|TRUE\b|FALSE\b)/g, 'IS DISTINCT FROM ');
  s = s.replace(/\bIS\s+(?!NOT\b|NULL\b|DISTINCT\b|TRUE\b|FALSE\b)/g, 'IS NOT DISTINCT FROM ');
  s = s.replace(/\bNOT\s+LIKE\b/g, 'NOT ILIKE').replace(/(?<!NOT\s)\bLIKE\b/g, 'ILIKE');
  // camelCase aliases keep their case (PostgreSQL folds unquoted names to lower case)
  s = s.replace(/(?<![\w"$@:])([a-z][a-z0-9_]*[A-Z][A-Za-z0-9_]*)\b/g, '"$1"');
  s = s.replace(/\b(sum|SUM)\(/g, 'pm_sum(');
  s = s.replace(/\bAS\s+REAL\b/g, 'AS DOUBLE PRECISION').replace(/\bAS\s+INTEGER\)/g, 'AS BIGINT)');
  return s;
}

const cache = new Map<string, PgStatementText>();

/** Translates one statement (or several, for exec) of the store's SQL into PostgreSQL's dialect. */
export function toPg(sql: string): PgStatementText {
  const hit = cache.get(sql);
  if (hit) return hit;
  const params: (string | null)[] = [];
  const named = new Map<string, number>();
  // coalesce(column, 'text'): SQLite mixes types; PostgreSQL needs the column as text
  const mixed = scalarMinMax(sql).replace(/\b(coalesce|COALESCE)\(([\w.]+),\s*'/g, "$1($2::text, '");
  const parts = segments(mixed).map((seg) => {
    if (!seg.code) return seg.s;
    const code = rewriteCode(seg.s);
    return code.replace(/\?|(?<![:\w])[@:$]([A-Za-z_][A-Za-z0-9_]*)/g, (m, name: string | undefined) => {
      if (name === undefined) {
        params.push(null);
        return `$${params.length}`;
      }
      let k = named.get(name);
      if (k === undefined) {
        params.push(name);
        k = params.length;
        named.set(name, k);
      }
      return `$${k}`;
    });
  });
  const out = { text: parts.join(''), params };
  if (cache.size > 5000) cache.clear();
  cache.set(sql, out);
  return out;
}

/**
 * Translates a migration's DDL: INTEGER columns become BIGINT, INTEGER PRIMARY KEY an identity column,
 * a table with no integer key gets a rowid identity (the store orders some rows by rowid), WITHOUT ROWID
 * goes, and SQLite's RAISE(ABORT) triggers become PL/pgSQL trigger functions.
 */
export function ddlToPg(sql: string): string {
  const noComments = segments(sql)
    .map((seg) => seg.s)
    .join('');
  let s = noComments.replace(/\)\s*WITHOUT\s+ROWID/gi, ')');
  s = s.replace(
    /CREATE TRIGGER (\w+) BEFORE (UPDATE|DELETE) ON (\w+)(?:\s+WHEN\s+([\s\S]*?))?\s+BEGIN\s+SELECT\s+RAISE\(ABORT,\s*'((?:[^']|'')*)'\);\s*END;/g,
    (_m, name: string, op: string, table: string, when: string | undefined, msg: string) =>
      `CREATE OR REPLACE FUNCTION pm_trg_${name}() RETURNS trigger LANGUAGE plpgsql AS $f$ BEGIN RAISE EXCEPTION '${msg.replace(/%/g, '%%')}' USING ERRCODE = 'P0001'; END $f$;\n` +
      `CREATE TRIGGER ${name} BEFORE ${op} ON ${table} FOR EACH ROW${when ? ` WHEN (${when.trim()})` : ''} EXECUTE FUNCTION pm_trg_${name}();`,
  );
  s = s.replace(/CREATE TABLE (IF NOT EXISTS )?("?\w+"?) \(([\s\S]*?)\n\)(\s*;)/g, (_m, ine: string | undefined, name: string, body: string, end: string) => {
    // INTEGER PRIMARY KEY is SQLite's rowid: given, it is kept; left out (or NULL), it is the largest plus one,
    // which a trigger gives here (writers take turns, so the largest is stable). AUTOINCREMENT never reuses
    // an id: a sequence. A table with no integer key gets a rowid column of its own (the store orders by it).
    let key: string | null = null;
    let b = body.replace(/(\w+)(\s+)INTEGER\s+PRIMARY\s+KEY(\s+AUTOINCREMENT)?/gi, (_k, col: string, sp: string, auto: string | undefined) => {
      if (auto) return `${col}${sp}BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY`;
      key = col;
      return `${col}${sp}BIGINT PRIMARY KEY`;
    });
    const hasKey = key !== null || /GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY/.test(b);
    const composite = /^\s*PRIMARY KEY\s*\(/m.test(b) || /\bTEXT\s+PRIMARY\s+KEY\b/i.test(b);
    if (!hasKey && !composite) b = `\n  rowid BIGINT GENERATED BY DEFAULT AS IDENTITY,${b}`;
    const bare = name.replace(/"/g, '');
    const trigger = key ? `\nCREATE TRIGGER pm_rowid_${bare} BEFORE INSERT ON ${name} FOR EACH ROW WHEN (NEW.${key} IS NULL) EXECUTE FUNCTION pm_next_rowid('${key}');` : '';
    return `CREATE TABLE ${ine ?? ''}${name} (${b}\n)${end}${trigger}`;
  });
  s = s.replace(/\bINTEGER\b/g, 'BIGINT');
  s = s.replace(/\bREAL\b/g, 'DOUBLE PRECISION');
  return s;
}
