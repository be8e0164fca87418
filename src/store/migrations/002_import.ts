// Migration 2: purchase imports — one row per imported order keyed by (source, order_id) with its
// content hash and outcome (the idempotency key, committed with the points), and the review queue.
export const sql = `
CREATE TABLE purchases (
  id            INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,
  order_id      TEXT NOT NULL,
  member_id     TEXT NOT NULL,
  purchased_at  TEXT NOT NULL,              -- UTC ISO
  kind          TEXT NOT NULL CHECK (kind IN ('purchase', 'return')),
  amount        INTEGER NOT NULL,           -- net, minor units; negative for a return
  line_count    INTEGER NOT NULL,
  content_hash  TEXT NOT NULL,              -- same key + another hash = a conflict
  status        TEXT NOT NULL CHECK (status IN ('accrued', 'review', 'rejected')),
  points        INTEGER NOT NULL DEFAULT 0, -- credited (> 0) or taken back (< 0)
  capped        INTEGER NOT NULL DEFAULT 0, -- held back by the daily cap
  rules_version INTEGER,
  entry_id      INTEGER REFERENCES entries(id),
  imported_at   TEXT NOT NULL,
  UNIQUE (source, order_id)
);

-- Orders waiting for a person: above limits.reviewAbove, or for a frozen member. Unaccrued until approved.
CREATE TABLE review_queue (
  id           INTEGER PRIMARY KEY,
  source       TEXT NOT NULL,
  order_id     TEXT NOT NULL,
  member_id    TEXT NOT NULL,
  purchased_at TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('purchase', 'return')),
  amount       INTEGER NOT NULL,
  lines        TEXT NOT NULL,               -- JSON [[amount, sku, category], ...]: accrued by the rules at purchased_at
  reason       TEXT NOT NULL,               -- above-review-limit | member-frozen
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at   TEXT NOT NULL,
  decided_at   TEXT,
  decided_by   TEXT,
  note         TEXT,
  points       INTEGER,
  entry_id     INTEGER REFERENCES entries(id),
  UNIQUE (source, order_id)
);
CREATE INDEX review_pending ON review_queue(status, id);

-- A decision is final: a decided review item is never changed again, and none is deleted.
CREATE TRIGGER review_decided_final BEFORE UPDATE ON review_queue WHEN OLD.status <> 'pending'
  BEGIN SELECT RAISE(ABORT, 'a decided review item is final'); END;
CREATE TRIGGER review_no_delete BEFORE DELETE ON review_queue BEGIN SELECT RAISE(ABORT, 'review items are never deleted'); END;
CREATE TRIGGER purchases_no_delete BEFORE DELETE ON purchases BEGIN SELECT RAISE(ABORT, 'imported purchases are never deleted'); END;
`;
