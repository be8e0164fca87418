// Migration 3: split checkout — orders and their lines (with the §4.5 per-line points/cash/earned shares),
// holds and the lots each hold took points from, refunds, coupons and idempotency keys.
export const sql = `
CREATE TABLE orders (
  seq             INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,          -- ORD-000001; also the checkout id of a two-step checkout
  member_id       TEXT NOT NULL REFERENCES members(id),
  status          TEXT NOT NULL CHECK (status IN ('held', 'paid', 'declined', 'cancelled', 'expired', 'partially_refunded', 'refunded')),
  created_at      TEXT NOT NULL,                 -- business time, UTC ISO
  updated_at      TEXT NOT NULL,
  paid_at         TEXT,
  rules_version   INTEGER NOT NULL,
  tender          TEXT CHECK (tender IS NULL OR tender IN ('cash', 'card', 'alipay', 'wechat')),
  coupon_code     TEXT,
  subtotal        INTEGER NOT NULL,
  discount        INTEGER NOT NULL,
  total           INTEGER NOT NULL,
  points_used     INTEGER NOT NULL CHECK (points_used >= 0),
  points_value    INTEGER NOT NULL,
  cash_paid       INTEGER NOT NULL CHECK (cash_paid >= 0),
  points_earned   INTEGER NOT NULL DEFAULT 0,
  refunded_points INTEGER NOT NULL DEFAULT 0,
  refunded_cash   INTEGER NOT NULL DEFAULT 0,
  refunded_earned INTEGER NOT NULL DEFAULT 0,
  close_reason    TEXT,
  operator        TEXT NOT NULL
);
CREATE INDEX orders_member ON orders(member_id, created_at);
CREATE INDEX orders_created ON orders(created_at);

CREATE TABLE order_lines (
  order_id        TEXT NOT NULL REFERENCES orders(id),
  line_no         INTEGER NOT NULL,
  sku             TEXT NOT NULL,
  name            TEXT NOT NULL,
  category        TEXT,
  kind            TEXT NOT NULL,
  pay             TEXT NOT NULL,
  quantity        INTEGER NOT NULL CHECK (quantity > 0),
  unit_price      INTEGER NOT NULL,
  amount          INTEGER NOT NULL,
  discount        INTEGER NOT NULL,
  points          INTEGER NOT NULL,              -- §4.5 share of the order's points used
  cash            INTEGER NOT NULL,              -- §4.5 share of the cash paid
  earned          INTEGER NOT NULL DEFAULT 0,    -- §4.5 share of the points earned (set at capture)
  refunded_qty    INTEGER NOT NULL DEFAULT 0,
  refunded_points INTEGER NOT NULL DEFAULT 0,
  refunded_cash   INTEGER NOT NULL DEFAULT 0,
  refunded_earned INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (order_id, line_no)
) WITHOUT ROWID;
CREATE INDEX order_lines_sku ON order_lines(sku);

CREATE TABLE holds (
  id          INTEGER PRIMARY KEY,
  order_id    TEXT NOT NULL UNIQUE REFERENCES orders(id),
  member_id   TEXT NOT NULL REFERENCES members(id),
  points      INTEGER NOT NULL CHECK (points >= 0),
  status      TEXT NOT NULL CHECK (status IN ('open', 'captured', 'released')),
  created_at  TEXT NOT NULL,
  expires_at  TEXT NOT NULL,
  closed_at   TEXT,
  entry_id    INTEGER REFERENCES entries(id)   -- the 'hold' entry (NULL when no points are held)
);
CREATE INDEX holds_open ON holds(expires_at) WHERE status = 'open';
CREATE INDEX holds_member_open ON holds(member_id) WHERE status = 'open';

-- The lots a hold took its points from, in the order taken; returned is a cache of refunds given back.
CREATE TABLE hold_lots (
  hold_id  INTEGER NOT NULL REFERENCES holds(id),
  seq      INTEGER NOT NULL,
  lot_id   INTEGER NOT NULL REFERENCES lots(id),
  points   INTEGER NOT NULL CHECK (points > 0),
  returned INTEGER NOT NULL DEFAULT 0 CHECK (returned >= 0 AND returned <= points),
  PRIMARY KEY (hold_id, seq)
) WITHOUT ROWID;

CREATE TABLE refunds (
  id              INTEGER PRIMARY KEY,
  order_id        TEXT NOT NULL REFERENCES orders(id),
  at              TEXT NOT NULL,
  operator        TEXT NOT NULL,
  reason          TEXT,
  points          INTEGER NOT NULL,
  cash            INTEGER NOT NULL,
  earned          INTEGER NOT NULL,
  points_entry_id INTEGER REFERENCES entries(id),
  earned_entry_id INTEGER REFERENCES entries(id)
);
CREATE INDEX refunds_order ON refunds(order_id);

CREATE TABLE refund_lines (
  refund_id INTEGER NOT NULL REFERENCES refunds(id),
  line_no   INTEGER NOT NULL,
  sku       TEXT NOT NULL,
  quantity  INTEGER NOT NULL,
  points    INTEGER NOT NULL,
  cash      INTEGER NOT NULL,
  earned    INTEGER NOT NULL,
  PRIMARY KEY (refund_id, line_no)
) WITHOUT ROWID;

CREATE TABLE coupons (
  code          TEXT PRIMARY KEY,
  member_id     TEXT NOT NULL REFERENCES members(id),
  sku           TEXT NOT NULL,
  order_id      TEXT NOT NULL REFERENCES orders(id),   -- the purchase that issued it
  line_no       INTEGER NOT NULL,
  value         INTEGER,
  percent       TEXT,
  issued_at     TEXT NOT NULL,
  expires_on    TEXT NOT NULL,                          -- usable through this local date
  status        TEXT NOT NULL CHECK (status IN ('active', 'held', 'used', 'void')),
  used_order_id TEXT,
  used_at       TEXT
) WITHOUT ROWID;
CREATE INDEX coupons_member ON coupons(member_id, status);
CREATE INDEX coupons_order ON coupons(order_id, line_no);

-- A retried command with the same key returns the stored result and moves nothing again.
CREATE TABLE idempotency_keys (
  key          TEXT PRIMARY KEY,
  command      TEXT NOT NULL,
  request_hash TEXT NOT NULL,
  order_id     TEXT,
  result       TEXT,                -- the JSON result once the command finished
  exit_code    INTEGER,
  created_at   TEXT NOT NULL,
  completed_at TEXT
) WITHOUT ROWID;

CREATE TRIGGER refunds_append_only_u BEFORE UPDATE ON refunds BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER refunds_append_only_d BEFORE DELETE ON refunds BEGIN SELECT RAISE(ABORT, 'refunds are append-only'); END;
CREATE TRIGGER refund_lines_append_only_u BEFORE UPDATE ON refund_lines BEGIN SELECT RAISE(ABORT, 'refund lines are append-only'); END;
CREATE TRIGGER refund_lines_append_only_d BEFORE DELETE ON refund_lines BEGIN SELECT RAISE(ABORT, 'refund lines are append-only'); END;
CREATE TRIGGER hold_lots_no_delete BEFORE DELETE ON hold_lots BEGIN SELECT RAISE(ABORT, 'hold lots are append-only'); END;
CREATE TRIGGER orders_no_delete BEFORE DELETE ON orders BEGIN SELECT RAISE(ABORT, 'orders are never deleted'); END;
CREATE TRIGGER order_lines_no_delete BEFORE DELETE ON order_lines BEGIN SELECT RAISE(ABORT, 'order lines are never deleted'); END;
`;
