// Migration 15: each mixed order line keeps the ratio of its net that points could pay at checkout (the
// item's --max-points-ratio, capped by the rules' redeem.maxRatio), so that ledger verify can recompute how
// the order's points were spread over its mixed lines (SPEC §4.5: in proportion to what each line let
// points pay) instead of checking each line alone. NULL on cash and points-only lines, and on lines
// written before this migration (verify then checks them as before). On PostgreSQL the new text column
// compares by bytes, as migration 14 made every other (COLLATE "C").
export const sql = `
ALTER TABLE order_lines ADD COLUMN points_ratio TEXT;
`;

export const pg = `
ALTER TABLE order_lines ADD COLUMN points_ratio TEXT COLLATE "C";
`;
