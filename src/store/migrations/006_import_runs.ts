// Migration 6: import runs, and undoing them (issue 16). Each `import purchases` that commits records
// a run (its file, sha256, operator); each purchase row names its run. A void reverses an order's
// points with a new `void` entry and marks the purchase voided (voided_at, voided_by = that entry, or
// NULL when the order had no points: in review, rejected, 0 points). A voided purchase no longer holds
// its key (source, order_id): the key is unique among rows not voided only, so a corrected file can be
// imported again. SQLite cannot drop a UNIQUE constraint in place, so purchases and review_queue (whose
// key was unique too: a re-imported order may wait in review again) are rebuilt with their triggers.
export const sql = `
CREATE TABLE import_runs (
  id          INTEGER PRIMARY KEY AUTOINCREMENT,   -- never reused: a run that wrote nothing is not kept
  source      TEXT NOT NULL,
  file        TEXT NOT NULL,               -- as given, resolved to an absolute path
  sha256      TEXT NOT NULL,               -- of the file's bytes
  started_at  TEXT NOT NULL,               -- UTC ISO (recorded time)
  finished_at TEXT,                        -- NULL: the import stopped before its end (busy, crash)
  operator    TEXT NOT NULL,
  rows        INTEGER,                     -- the file's data rows, at the end
  rejected    INTEGER
);

CREATE TABLE purchases_new (
  id            INTEGER PRIMARY KEY,
  source        TEXT NOT NULL,
  order_id      TEXT NOT NULL,
  member_id     TEXT NOT NULL,
  purchased_at  TEXT NOT NULL,
  kind          TEXT NOT NULL CHECK (kind IN ('purchase', 'return')),
  amount        INTEGER NOT NULL,
  line_count    INTEGER NOT NULL,
  content_hash  TEXT NOT NULL,
  status        TEXT NOT NULL CHECK (status IN ('accrued', 'review', 'rejected')),
  points        INTEGER NOT NULL DEFAULT 0,
  capped        INTEGER NOT NULL DEFAULT 0,
  rules_version INTEGER,
  entry_id      INTEGER REFERENCES entries(id),
  imported_at   TEXT NOT NULL,
  run_id        INTEGER REFERENCES import_runs(id), -- NULL for purchases imported before runs were recorded
  voided_at     TEXT,                               -- UTC ISO; NULL = not voided
  voided_by     INTEGER REFERENCES entries(id)      -- the void entry that reversed its points
);
INSERT INTO purchases_new (id, source, order_id, member_id, purchased_at, kind, amount, line_count, content_hash, status, points, capped, rules_version, entry_id, imported_at)
  SELECT id, source, order_id, member_id, purchased_at, kind, amount, line_count, content_hash, status, points, capped, rules_version, entry_id, imported_at FROM purchases;
DROP TABLE purchases;
ALTER TABLE purchases_new RENAME TO purchases;
CREATE UNIQUE INDEX purchases_key ON purchases(source, order_id) WHERE voided_at IS NULL;
CREATE TRIGGER purchases_no_delete BEFORE DELETE ON purchases BEGIN SELECT RAISE(ABORT, 'imported purchases are never deleted'); END;
-- A void is final.
CREATE TRIGGER purchases_void_final BEFORE UPDATE ON purchases WHEN OLD.voided_at IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a voided purchase is final'); END;

CREATE TABLE review_queue_new (
  id           INTEGER PRIMARY KEY,
  source       TEXT NOT NULL,
  order_id     TEXT NOT NULL,
  member_id    TEXT NOT NULL,
  purchased_at TEXT NOT NULL,
  kind         TEXT NOT NULL CHECK (kind IN ('purchase', 'return')),
  amount       INTEGER NOT NULL,
  lines        TEXT NOT NULL,
  reason       TEXT NOT NULL,
  status       TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'approved', 'rejected')),
  created_at   TEXT NOT NULL,
  decided_at   TEXT,
  decided_by   TEXT,
  note         TEXT,
  points       INTEGER,
  entry_id     INTEGER REFERENCES entries(id)
);
INSERT INTO review_queue_new SELECT id, source, order_id, member_id, purchased_at, kind, amount, lines, reason, status, created_at, decided_at, decided_by, note, points, entry_id FROM review_queue;
DROP TABLE review_queue;
ALTER TABLE review_queue_new RENAME TO review_queue;
CREATE INDEX review_pending ON review_queue(status, id);
-- One item per key not decided: a voided order's rejected or approved item stays beside the new one.
CREATE UNIQUE INDEX review_key ON review_queue(source, order_id) WHERE status = 'pending';
CREATE INDEX review_order ON review_queue(order_id);
CREATE TRIGGER review_decided_final BEFORE UPDATE ON review_queue WHEN OLD.status <> 'pending'
  BEGIN SELECT RAISE(ABORT, 'a decided review item is final'); END;
CREATE TRIGGER review_no_delete BEFORE DELETE ON review_queue BEGIN SELECT RAISE(ABORT, 'review items are never deleted'); END;
`;
