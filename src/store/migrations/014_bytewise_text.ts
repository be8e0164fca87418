// Migration 14 (issue 17): on PostgreSQL, the ledger's text columns compare byte by byte (COLLATE "C"), as
// SQLite's do. A database made with an ordinary collation (en_US.UTF-8, an ICU locale: what a merchant's
// own server usually has) otherwise sorted ids by its language rules: `member list` gave `_x A_2 a-3 a10 a9
// B1 b2 Z` where SQLite gives `A_2 B1 Z _x a-3 a10 a9 b2`, so pages, top-N reports and the rows at their
// ties differed between the backends (and between two servers). Comparisons and sorts of ids, SKUs, times
// and codes now follow the bytes on both; on a database whose own collation is C already, nothing changes
// but the columns' declared collation.
// One ALTER TABLE per table (one rebuild of its indexes). Columns that a trigger's condition reads
// (review_queue.status, purchases.voided_at) keep theirs: PostgreSQL cannot retype them under a trigger,
// and nothing sorts or pages by them. The tables are those of schema 13: a later migration's new text
// columns say COLLATE "C" in its own PostgreSQL DDL.
// On SQLite nothing changes: TEXT compares as BINARY there already.
export const sql = '';

const TABLES = [
  'activity_awards', 'audit', 'catalog_items', 'checkout_codes', 'coupons', 'entries', 'hold_lots', 'holds',
  'idempotency_keys', 'import_runs', 'lot_moves', 'lots', 'members', 'order_lines', 'orders', 'outbox',
  'postings', 'purchase_lines', 'purchases', 'refund_lines', 'refunds', 'review_queue', 'rules_versions', 'settings',
];

export const pg = `
DO $m$
DECLARE t text; cols text;
BEGIN
  FOR t, cols IN
    SELECT c.table_name, string_agg(format('ALTER COLUMN %I TYPE text COLLATE "C"', c.column_name), ', ' ORDER BY c.ordinal_position)
      FROM information_schema.columns c
     WHERE c.table_schema = current_schema() AND c.data_type = 'text' AND c.collation_name IS DISTINCT FROM 'C'
       AND c.table_name IN (${TABLES.map((t) => `'${t}'`).join(', ')})
       AND NOT EXISTS (
             SELECT 1 FROM pg_depend d JOIN pg_trigger g ON g.oid = d.objid
              WHERE d.classid = 'pg_trigger'::regclass AND d.refclassid = 'pg_class'::regclass
                AND d.refobjid = format('%I', c.table_name)::regclass AND d.refobjsubid = c.ordinal_position)
     GROUP BY c.table_name
  LOOP
    EXECUTE format('ALTER TABLE %I ', t) || cols;
  END LOOP;
END $m$;
`;
