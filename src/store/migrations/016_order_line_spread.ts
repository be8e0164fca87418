// Migration 16: each mixed order line written from this build on keeps which rule spread the order's points
// over its mixed lines: 1 = whole steps within each line's own cap (§4.2, §4.3), so no line carries points
// value without points. NULL on cash and points-only lines, and on lines written before: those builds spread
// steps by the pooled caps (and, where a step was worth more than a line, the value by caps and the points by
// value), and ledger verify accepts that spread for them only. A marked order is held to the rule alone.
export const sql = `
ALTER TABLE order_lines ADD COLUMN points_spread INTEGER;
`;
