// Migration 9: activity awards (issue 18) — points for tasks (a review, a signup) keyed by (activity, ref).
// The key is the idempotency key: a repeat returns the first result (stored as JSON), the same ref for
// another member is refused. A frozen member's award waits in review (status 'review', no entry) until a
// person approves or rejects it. Plain SQL: INTEGER/TEXT columns, no triggers.
export const sql = `
CREATE TABLE activity_awards (
  id            INTEGER PRIMARY KEY,
  activity      TEXT NOT NULL,
  ref           TEXT NOT NULL,
  member_id     TEXT NOT NULL REFERENCES members(id),
  occurred_at   TEXT NOT NULL,              -- business time, UTC ISO: the rules in force then apply
  status        TEXT NOT NULL CHECK (status IN ('awarded', 'review', 'rejected')),
  points        INTEGER NOT NULL CHECK (points > 0), -- the activity's points by the rules at occurred_at
  rules_version INTEGER NOT NULL,
  entry_id      INTEGER REFERENCES entries(id), -- the award entry once credited
  run_id        INTEGER,                    -- set by import activities: the audit of that file
  created_at    TEXT NOT NULL,              -- recorded time
  decided_at    TEXT,
  decided_by    TEXT,
  note          TEXT,
  result        TEXT NOT NULL,              -- the JSON the first award printed, returned to a repeat
  UNIQUE (activity, ref)
);
CREATE INDEX activity_awards_member ON activity_awards(member_id, activity, occurred_at);
CREATE INDEX activity_awards_status ON activity_awards(status, id);
`;
