// Migration 10 (issue 18): verified points payments and points discounts on chosen items.
// checkout_codes: the one-time code of a checkout above limits.verifyPointsAbove — only a salted hash is
// kept (the code itself is in the auth.code outbox message's payload), with the wrong attempts counted;
// three wrong codes void the hold (status failed). catalog.points_discount: the percent by which points
// paying that item pay more than their face value; order_lines keep the percent and the money it added.
export const sql = `
CREATE TABLE checkout_codes (
  order_id    TEXT PRIMARY KEY REFERENCES orders(id),
  member_id   TEXT NOT NULL REFERENCES members(id),
  salt        TEXT NOT NULL,
  code_hash   TEXT NOT NULL,
  attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0 AND attempts <= 3),
  status      TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'failed')),
  created_at  TEXT NOT NULL,
  closed_at   TEXT
);
CREATE INDEX checkout_codes_member ON checkout_codes(member_id, created_at);

ALTER TABLE catalog_items ADD COLUMN points_discount TEXT;                       -- percent, e.g. '10'; NULL = none
ALTER TABLE order_lines ADD COLUMN points_discount_pct TEXT;               -- the item's percent at checkout
ALTER TABLE order_lines ADD COLUMN points_discount INTEGER NOT NULL DEFAULT 0; -- money the points paid above their value
ALTER TABLE orders ADD COLUMN points_discount INTEGER NOT NULL DEFAULT 0;      -- Σ of its lines'
`;
