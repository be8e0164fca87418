// Migration 8: the lines of every imported order (issue 19), so analysis and re-accrual see what was
// bought: one row per line, keyed to the purchase row (not its key, which a void frees for a re-import).
// Written by the import with the purchase, in the same batch; never updated or deleted (a voided
// purchase keeps its lines, and readers leave out the lines of voided purchases). quantity is the
// normalised decimal text of a line-level file (NULL for an order-level file); amount is the line's
// signed amount in minor units, and a purchase's lines sum to its amount.
export const sql = `
CREATE TABLE purchase_lines (
  purchase_id INTEGER NOT NULL REFERENCES purchases(id),
  line_no     INTEGER NOT NULL,
  sku         TEXT,
  category    TEXT,
  quantity    TEXT,
  amount      INTEGER NOT NULL,
  PRIMARY KEY (purchase_id, line_no)
) WITHOUT ROWID;
`;
