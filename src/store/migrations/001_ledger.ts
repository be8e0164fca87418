// Migration 1: the ledger core — settings, members, the journal (entries, postings), lots, rules,
// catalog, audit log and the notifications outbox. Never edit a landed migration: add a new one.
export const sql = `
CREATE TABLE settings (
  key   TEXT PRIMARY KEY,
  value TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE members (
  id              TEXT PRIMARY KEY,
  name            TEXT NOT NULL,
  phone           TEXT,
  email           TEXT,
  tier            TEXT,                     -- pinned tier; NULL = by lifetime earned points
  status          TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'frozen')),
  frozen_reason   TEXT,
  created_at      TEXT NOT NULL,
  updated_at      TEXT NOT NULL,
  -- caches of the journal, recomputed and checked by ledger verify
  balance         INTEGER NOT NULL DEFAULT 0,
  held            INTEGER NOT NULL DEFAULT 0,
  debt            INTEGER NOT NULL DEFAULT 0,
  lifetime_earned INTEGER NOT NULL DEFAULT 0,
  last_activity_at TEXT
);
CREATE INDEX members_tier ON members(tier);

-- The journal: one entry per change, hash-chained; its postings sum to zero.
CREATE TABLE entries (
  id          INTEGER PRIMARY KEY,
  at          TEXT NOT NULL,                -- business time, UTC ISO
  recorded_at TEXT NOT NULL,
  kind        TEXT NOT NULL,
  member_id   TEXT,
  ref         TEXT,
  memo        TEXT,
  operator    TEXT NOT NULL,
  prev_hash   TEXT NOT NULL,
  hash        TEXT NOT NULL
);
CREATE INDEX entries_member ON entries(member_id, id);
CREATE INDEX entries_kind_at ON entries(kind, at);
CREATE INDEX entries_at ON entries(at);

CREATE TABLE postings (
  entry_id  INTEGER NOT NULL REFERENCES entries(id),
  account   TEXT NOT NULL CHECK (account IN ('member', 'held', 'issued', 'redeemed', 'expired', 'adjusted')),
  member_id TEXT,
  points    INTEGER NOT NULL
);
CREATE INDEX postings_entry ON postings(entry_id);
CREATE INDEX postings_member ON postings(member_id, account);

-- Lots: every credit; remaining is a cache of points + Σ lot_moves.
CREATE TABLE lots (
  id         INTEGER PRIMARY KEY,
  member_id  TEXT NOT NULL REFERENCES members(id),
  entry_id   INTEGER NOT NULL REFERENCES entries(id),
  points     INTEGER NOT NULL CHECK (points > 0),
  remaining  INTEGER NOT NULL CHECK (remaining >= 0),
  earned_at  TEXT NOT NULL,
  expires_on TEXT
);
CREATE INDEX lots_member ON lots(member_id, expires_on);   -- not partial: emptying a lot must not rewrite it
CREATE INDEX lots_expiry_open ON lots(expires_on) WHERE remaining > 0;

CREATE TABLE lot_moves (
  entry_id INTEGER NOT NULL REFERENCES entries(id),
  lot_id   INTEGER NOT NULL REFERENCES lots(id),
  points   INTEGER NOT NULL CHECK (points <> 0)   -- negative: taken from the lot; positive: given back
);
CREATE INDEX lot_moves_lot ON lot_moves(lot_id);

CREATE TABLE rules_versions (
  id           INTEGER PRIMARY KEY,
  effective_at TEXT NOT NULL,
  applied_at   TEXT NOT NULL,
  operator     TEXT NOT NULL,
  source       TEXT,
  document     TEXT NOT NULL
);
CREATE INDEX rules_effective ON rules_versions(effective_at, id);

CREATE TABLE catalog_items (
  sku              TEXT PRIMARY KEY,
  name             TEXT NOT NULL,
  category         TEXT,
  price            INTEGER NOT NULL CHECK (price >= 0),
  points_price     INTEGER CHECK (points_price IS NULL OR points_price >= 0),
  pay              TEXT NOT NULL DEFAULT 'mixed' CHECK (pay IN ('mixed', 'cash', 'points')),
  max_points_ratio TEXT,
  stock            INTEGER CHECK (stock IS NULL OR stock >= 0),
  stock_held       INTEGER NOT NULL DEFAULT 0 CHECK (stock_held >= 0),
  kind             TEXT NOT NULL DEFAULT 'goods' CHECK (kind IN ('goods', 'coupon')),
  coupon_value     INTEGER,
  coupon_percent   TEXT,
  coupon_days      INTEGER,
  active           INTEGER NOT NULL DEFAULT 1,
  created_at       TEXT NOT NULL,
  updated_at       TEXT NOT NULL
);
CREATE INDEX catalog_category ON catalog_items(category);

CREATE TABLE audit (
  id       INTEGER PRIMARY KEY,
  at       TEXT NOT NULL,
  operator TEXT NOT NULL,
  action   TEXT NOT NULL,
  subject  TEXT,
  detail   TEXT
);
CREATE INDEX audit_at ON audit(at);

CREATE TABLE outbox (
  id         INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  topic      TEXT NOT NULL,               -- order.confirmed, points.expiring, points.expired
  member_id  TEXT,
  channel    TEXT NOT NULL CHECK (channel IN ('sms', 'email', 'none')),
  recipient  TEXT,
  dedupe_key TEXT UNIQUE,
  payload    TEXT NOT NULL,
  sent_at    TEXT
);
CREATE INDEX outbox_pending ON outbox(id) WHERE sent_at IS NULL;

-- The books are append-only: the journal, its lot moves and the audit log refuse edits.
CREATE TRIGGER entries_append_only_u BEFORE UPDATE ON entries BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER entries_append_only_d BEFORE DELETE ON entries BEGIN SELECT RAISE(ABORT, 'entries are append-only'); END;
CREATE TRIGGER postings_append_only_u BEFORE UPDATE ON postings BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER postings_append_only_d BEFORE DELETE ON postings BEGIN SELECT RAISE(ABORT, 'postings are append-only'); END;
CREATE TRIGGER lot_moves_append_only_u BEFORE UPDATE ON lot_moves BEGIN SELECT RAISE(ABORT, 'lot moves are append-only'); END;
CREATE TRIGGER lot_moves_append_only_d BEFORE DELETE ON lot_moves BEGIN SELECT RAISE(ABORT, 'lot moves are append-only'); END;
CREATE TRIGGER audit_append_only_u BEFORE UPDATE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_append_only_d BEFORE DELETE ON audit BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
`;
